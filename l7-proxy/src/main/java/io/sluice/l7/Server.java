package io.sluice.l7;

/**
 * One backend of a server group.
 *
 * @param address IPv4 or IPv6 literal.
 * @param port    1..65535.
 * @param weight  0..100; 0 keeps the server in the group but sends it nothing new.
 */
public record Server(String address, int port, int weight)
{
    public Server
    {
        ConfigException.required("server.address", address);
        ConfigException.range("server.port", port, 1, 65_535);
        ConfigException.range("server.weight", weight, 0, 100);
    }

    /** The key health and statistics are tracked under: {@code address:port} ({@code [v6]:port} for IPv6). */
    public String key()
    {
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }
}
