package io.sluice.testbed;

/** Ports the backend servers listen on in every backend namespace (all addresses, IPv4 and IPv6). */
public final class BackendPorts
{
    /** HTTP: nginx when installed (fixed-size files, /echo proxied to the Java server), else the Java server. */
    public static final int HTTP = 80;
    /** HTTP, always the built-in Java server: /, /bytes/N, /echo (request headers back), /health. */
    public static final int JAVA_HTTP = 8080;
    /** TCP echo (RFC 862 port). */
    public static final int TCP_ECHO = 7;
    /** UDP echo (RFC 862 port). */
    public static final int UDP_ECHO = 7;
    /** Size of the body served on "/" by both HTTP servers. */
    public static final int ROOT_BODY_BYTES = 100;

    private BackendPorts()
    {
    }
}
