package io.sluice.l7;

import java.util.List;

/**
 * A named set of backends.
 *
 * @param name        the name rules and listeners refer to.
 * @param servers     the backends.
 * @param http2       speak HTTP/2 (prior knowledge; ALPN h2 over TLS) to these backends; gRPC needs it for trailers.
 * @param tls         speak TLS to these backends (null: cleartext).
 */
public record ServerGroup(String name, List<Server> servers, boolean http2, UpstreamTls tls)
{
    public ServerGroup
    {
        ConfigException.required("serverGroup.name", name);
        servers = List.copyOf(ConfigException.required("serverGroups[" + name + "].servers", servers));
    }

    public ServerGroup(final String name, final List<Server> servers, final boolean http2)
    {
        this(name, servers, http2, null);
    }

    public ServerGroup(final String name, final List<Server> servers)
    {
        this(name, servers, false, null);
    }
}
