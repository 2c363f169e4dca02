package io.sluice.l7;

/**
 * Answer every request with a redirect instead of proxying: the same host, path and query on another protocol and port.
 *
 * @param protocol   http or https.
 * @param port       1..65535; the default port of the protocol is left out of the Location.
 * @param statusCode 301 (GET-only clients) or 308 (method and body preserved).
 */
public record Redirect(String protocol, int port, int statusCode)
{
    public Redirect
    {
        if (!"http".equals(protocol) && !"https".equals(protocol))
        {
            throw new ConfigException("redirectTo.protocol: " + protocol + " is not one of http, https");
        }
        ConfigException.range("redirectTo.port", port, 1, 65_535);
        if (statusCode != 301 && statusCode != 308)
        {
            throw new ConfigException("redirectTo.statusCode: " + statusCode + " is not one of 301, 308");
        }
    }

    public Redirect(final String protocol, final int port)
    {
        this(protocol, port, 301);
    }
}
