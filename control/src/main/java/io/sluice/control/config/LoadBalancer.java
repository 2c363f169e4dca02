package io.sluice.control.config;

import io.sluice.control.config.Schema.AddressSpec;
import io.sluice.control.config.Schema.Field;
import io.sluice.control.config.Schema.IntSpec;
import io.sluice.control.config.Schema.ListSpec;
import io.sluice.control.config.Schema.ObjectSpec;
import io.sluice.control.config.Schema.StringSpec;

import java.net.InetAddress;
import java.util.List;

/**
 * A load-balancer instance: one VIP, its listeners and server groups.
 *
 * @param name          unique on the node.
 * @param vip           the virtual address clients connect to.
 * @param bandwidthMbps outbound peak of the whole instance, -1 unlimited.
 * @param listeners     protocol:port entry points.
 * @param serverGroups  named backend sets.
 */
public record LoadBalancer(String name, String vip, int bandwidthMbps, List<Listener> listeners, List<ServerGroup> serverGroups)
{
    /** Peak bandwidth ceiling: 100 Gbit/s, the fastest NIC port a node is expected to have. */
    public static final int MAX_BANDWIDTH_MBPS = 100_000;

    static final Field<String> NAME = Field.required("name", StringSpec.matching(NodeConfig.NAME_PATTERN, NodeConfig.NAME_TEXT),
        "The load balancer's name.");
    static final Field<String> VIP = Field.required("vip", new AddressSpec(), "The virtual IP clients connect to (IPv4 or IPv6).");
    static final Field<Long> BANDWIDTH = Field.optional("bandwidthMbps",
        IntSpec.rangeOr(1, MAX_BANDWIDTH_MBPS, -1, "unlimited"), -1L,
        "Outbound (LB to client) peak of the whole instance; in a cluster each live node enforces its share.");
    static final Field<List<Listener>> LISTENERS = Field.optional("listeners", new ListSpec<>(Listener.SPEC, 0, 256), List.of(),
        "Protocol:port entry points on the VIP.");
    static final Field<List<ServerGroup>> SERVER_GROUPS = Field.optional("serverGroups",
        new ListSpec<>(ServerGroup.SPEC, 0, 256), List.of(), "Named sets of backends.");

    public static final ObjectSpec<LoadBalancer> SPEC = new ObjectSpec<>("loadBalancer", "A load-balancer instance.",
        v -> new LoadBalancer(v.get(NAME), v.get(VIP), v.get(BANDWIDTH).intValue(), v.get(LISTENERS), v.get(SERVER_GROUPS)),
        NAME, VIP, BANDWIDTH, LISTENERS, SERVER_GROUPS);

    public InetAddress vipAddress()
    {
        return InetAddress.ofLiteral(vip);
    }

    /**
     * {@code LB/proto:port} ({@code web/http:80}): the one name of a listener across the node. The API and CLI print it,
     * the L7 proxy names its listeners so (so its counter labels read {@code l7.bytes_out[web/http:80]}), the fastpath
     * component and the health checker key listeners by it, and usage metering finds the L7 counters by it.
     */
    public String listenerName(final Listener listener)
    {
        return listenerName(name, listener.key());
    }

    /** {@link #listenerName(Listener)} from a load balancer's name and a listener's {@link Listener#key()}. */
    public static String listenerName(final String loadBalancerName, final String listenerKey)
    {
        return loadBalancerName + "/" + listenerKey;
    }

    /**
     * {@code LB.proto.port} ({@code web.tcp.80}): the listener's name in the fastpath, the suffix of its per-listener
     * counter labels ({@code fastpath.listener.bytes_out.web.tcp.80}); dotted, as every fastpath label is, so the
     * whole label stays one dotted path for {@code sluice stat} and Prometheus.
     */
    public String fastpathListenerName(final Listener listener)
    {
        return name + "." + listener.protocol().wireName() + "." + listener.port();
    }

    /** The listener whose {@link Listener#key()} is {@code key} ({@code proto:port}), or null. */
    public Listener listener(final String key)
    {
        for (final Listener listener : listeners)
        {
            if (listener.key().equals(key))
            {
                return listener;
            }
        }
        return null;
    }

    public ServerGroup serverGroup(final String groupName)
    {
        for (final ServerGroup group : serverGroups)
        {
            if (group.name().equals(groupName))
            {
                return group;
            }
        }
        return null;
    }
}
