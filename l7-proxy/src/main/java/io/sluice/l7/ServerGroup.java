package io.sluice.l7;

import java.util.List;

/**
 * A named set of backends.
 *
 * @param name        the name rules and listeners refer to.
 * @param servers     the backends.
 * @param http2       speak HTTP/2 (cleartext prior knowledge) to these backends; gRPC needs it for trailers.
 */
public record ServerGroup(String name, List<Server> servers, boolean http2)
{
    public ServerGroup
    {
        ConfigException.required("serverGroup.name", name);
        servers = List.copyOf(ConfigException.required("serverGroups[" + name + "].servers", servers));
    }

    public ServerGroup(final String name, final List<Server> servers)
    {
        this(name, servers, false);
    }
}
