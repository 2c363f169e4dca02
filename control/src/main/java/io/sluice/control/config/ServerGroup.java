package io.sluice.control.config;

import io.sluice.control.config.Schema.AddressSpec;
import io.sluice.control.config.Schema.BoolSpec;
import io.sluice.control.config.Schema.Field;
import io.sluice.control.config.Schema.IntSpec;
import io.sluice.control.config.Schema.ListSpec;
import io.sluice.control.config.Schema.ObjectSpec;
import io.sluice.control.config.Schema.StringSpec;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A named set of backend servers that listeners and rules send traffic to.
 *
 * @param name    unique in its load balancer.
 * @param servers the backends.
 * @param http2   the L7 proxy speaks HTTP/2 to these servers (gRPC needs it for trailers).
 * @param tls     TLS from the L7 proxy to these servers, null for cleartext.
 */
public record ServerGroup(String name, List<Server> servers, boolean http2, Tls tls)
{
    /**
     * TLS from the L7 proxy to the servers of a group.
     *
     * @param enabled       false keeps the settings but speaks cleartext.
     * @param verify        check the servers' certificate chains (and, with {@code sni}, the name).
     * @param sni           host name sent as SNI and verified; none: no SNI, chain only (servers addressed by IP).
     * @param caCertificate PEM file (absolute path on the node) of the trust anchors; none: the JDK's default set.
     */
    public record Tls(boolean enabled, boolean verify, String sni, String caCertificate)
    {
        static final Field<Boolean> ENABLED = Field.optional("enabled", new BoolSpec(), true,
            "Speak TLS to the servers (false keeps the settings but speaks cleartext).");
        static final Field<Boolean> VERIFY = Field.optional("verify", new BoolSpec(), true,
            "Verify the servers' certificate chains against caCertificate (and the name, when sni is set); "
                + "false accepts any certificate.");
        static final Field<String> SNI = Field.optional("sni", StringSpec.matching(
            "[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*", "a DNS name"),
            null, "Host name sent as SNI and verified against the certificate; none: no SNI, the chain only.");
        static final Field<String> CA = Field.optional("caCertificate", new Schema.PathSpec(), null,
            "PEM file of the CA certificates that sign the servers' certificates (absolute path on the node); "
                + "none: the JDK's default trust anchors.");
        public static final ObjectSpec<Tls> SPEC = new ObjectSpec<>("backendTls", "TLS from the L7 proxy to the servers.",
            v -> new Tls(v.get(ENABLED), v.get(VERIFY), v.get(SNI), v.get(CA)), ENABLED, VERIFY, SNI, CA);
    }

    /** The L7 proxy speaks TLS to these servers. */
    public boolean tlsEnabled()
    {
        return tls != null && tls.enabled();
    }

    /**
     * One backend.
     *
     * @param address IPv4 or IPv6.
     * @param port    its port.
     * @param weight  0 takes no new flows (draining); 1..100 relative share.
     */
    public record Server(String address, int port, int weight)
    {
        static final Field<String> ADDRESS = Field.required("address", new AddressSpec(), "The server's address.");
        static final Field<Long> PORT = Field.required("port", IntSpec.range(1, 65535), "The server's port.");
        static final Field<Long> WEIGHT = Field.optional("weight", IntSpec.range(0, 100), 100L,
            "Relative share for wrr/wlc/maglev/hash; 0 takes no new flows (drain).");
        public static final ObjectSpec<Server> SPEC = new ObjectSpec<>("server", "A backend server.",
            v -> new Server(v.get(ADDRESS), v.get(PORT).intValue(), v.get(WEIGHT).intValue()), ADDRESS, PORT, WEIGHT);

        public InetAddress inetAddress()
        {
            return InetAddress.ofLiteral(address);
        }

        /** ADDRESS:PORT with IPv6 in brackets, the form the CLI and API name servers by. */
        public String key()
        {
            return (address.indexOf(':') >= 0 ? "[" + inetAddress().getHostAddress() + "]" : address) + ":" + port;
        }
    }

    static final Field<String> NAME = Field.required("name", StringSpec.matching(NodeConfig.NAME_PATTERN, NodeConfig.NAME_TEXT),
        "The group's name, unique in its load balancer.");
    static final Field<List<Server>> SERVERS = Field.optional("servers", new ListSpec<>(Server.SPEC, 0, 1000), List.of(),
        "The backends.");
    static final Field<Boolean> HTTP2 = Field.optional("http2", new BoolSpec(), false,
        "L7 only: speak HTTP/2 to these servers (needed for gRPC trailers).");
    static final Field<Tls> TLS = Field.optional("tls", Tls.SPEC, null,
        "L7 only: speak TLS to these servers, e.g. {verify: true, sni: api.example.com, caCertificate: /etc/sluice/backend-ca.pem}.");

    public static final ObjectSpec<ServerGroup> SPEC = new ObjectSpec<>("serverGroup", "A named set of backend servers.",
        ServerGroup::from, NAME, SERVERS, HTTP2, TLS);

    private static ServerGroup from(final Schema.Values v)
    {
        final Set<String> seen = new HashSet<>();
        final List<Server> servers = v.get(SERVERS);
        for (int i = 0; i < servers.size(); i++)
        {
            if (!seen.add(servers.get(i).key()))
            {
                v.reject(SERVERS, "servers[" + i + "] " + servers.get(i).key() + " is listed twice");
            }
        }
        return new ServerGroup(v.get(NAME), servers, v.get(HTTP2), v.get(TLS));
    }
}
