package io.sluice.control.config;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Checks between sections that a single key cannot: names that must exist, ports and names that must be unique. */
final class ConfigValidator
{
    private ConfigValidator()
    {
    }

    static void check(final SluiceConfig config, final Schema.Errors errors)
    {
        final Map<String, Integer> lbNames = new HashMap<>();
        final Map<InetAddress, Integer> vips = new HashMap<>();
        final List<LoadBalancer> lbs = config.loadBalancers();
        for (int i = 0; i < lbs.size(); i++)
        {
            final LoadBalancer lb = lbs.get(i);
            final String at = "loadBalancers[" + i + "]";
            final Integer sameName = lbNames.putIfAbsent(lb.name(), i);
            if (sameName != null)
            {
                errors.add(at + ".name", "\"" + lb.name() + "\" is already the name of loadBalancers[" + sameName + "]");
            }
            final Integer sameVip = vips.putIfAbsent(lb.vipAddress(), i);
            if (sameVip != null)
            {
                errors.add(at + ".vip", lb.vip() + " is already the VIP of loadBalancers[" + sameVip + "]");
            }
            checkLoadBalancer(lb, at, errors);
        }
        final NodeConfig node = config.node();
        final ClusterConfig cluster = config.cluster();
        if (node != null && cluster != null && cluster.backupFor().contains(node.name()))
        {
            errors.add("cluster.backupFor", "names this node itself (\"" + node.name() + "\")");
        }
        if (node != null && !node.interfaces().isEmpty())
        {
            checkLocalAddresses(config, node, errors);
        }
    }

    private static void checkLoadBalancer(final LoadBalancer lb, final String at, final Schema.Errors errors)
    {
        final Map<String, Integer> groups = new HashMap<>();
        for (int g = 0; g < lb.serverGroups().size(); g++)
        {
            final Integer same = groups.putIfAbsent(lb.serverGroups().get(g).name(), g);
            if (same != null)
            {
                errors.add(at + ".serverGroups[" + g + "].name", "\"" + lb.serverGroups().get(g).name()
                    + "\" is already the name of serverGroups[" + same + "]");
            }
        }
        final String known = groups.isEmpty() ? "it has none"
            : "known: " + lb.serverGroups().stream().map(ServerGroup::name).collect(Collectors.joining(", "));

        final Map<String, Integer> ports = new HashMap<>();
        for (int l = 0; l < lb.listeners().size(); l++)
        {
            final Listener listener = lb.listeners().get(l);
            final String lat = at + ".listeners[" + l + "]";
            final String portKey = listener.port() + "/" + listener.protocol().transport();
            final Integer samePort = ports.putIfAbsent(portKey, l);
            if (samePort != null)
            {
                errors.add(lat + ".port", portKey + " is already used on VIP " + lb.vip() + " by listeners[" + samePort + "]");
            }
            if (listener.serverGroup() != null && !groups.containsKey(listener.serverGroup()))
            {
                errors.add(lat + ".serverGroup", "\"" + listener.serverGroup() + "\" names no server group of load balancer \""
                    + lb.name() + "\" (" + known + ")");
            }
            for (int r = 0; r < listener.rules().size(); r++)
            {
                final String group = listener.rules().get(r).serverGroup();
                if (!groups.containsKey(group))
                {
                    errors.add(lat + ".rules[" + r + "].serverGroup", "\"" + group + "\" names no server group of load balancer \""
                        + lb.name() + "\" (" + known + ")");
                }
            }
        }
        for (int l = 0; l < lb.listeners().size(); l++)
        {
            final Listener.RedirectTo redirect = lb.listeners().get(l).redirectTo();
            if (redirect != null && !ports.containsKey(redirect.port() + "/tcp"))
            {
                errors.add(at + ".listeners[" + l + "].redirectTo.port", redirect.port() + " has no listener on VIP " + lb.vip());
            }
        }
    }

    /** FullNAT needs a local (source) address of each backend family that an L4 listener sends to. */
    private static void checkLocalAddresses(final SluiceConfig config, final NodeConfig node, final Schema.Errors errors)
    {
        final boolean hasV4 = node.localAddresses().stream().anyMatch(a -> a.indexOf(':') < 0);
        final boolean hasV6 = node.localAddresses().stream().anyMatch(a -> a.indexOf(':') >= 0);
        for (int i = 0; i < config.loadBalancers().size(); i++)
        {
            final LoadBalancer lb = config.loadBalancers().get(i);
            for (int l = 0; l < lb.listeners().size(); l++)
            {
                final Listener listener = lb.listeners().get(l);
                final ServerGroup group = listener.isL7() || listener.serverGroup() == null ? null : lb.serverGroup(listener.serverGroup());
                if (group == null)
                {
                    continue;
                }
                for (final ServerGroup.Server server : group.servers())
                {
                    final boolean v6 = server.address().indexOf(':') >= 0;
                    if (v6 ? !hasV6 : !hasV4)
                    {
                        errors.add("node.localAddresses", "has no " + (v6 ? "IPv6" : "IPv4") + " address, needed to reach server "
                            + server.key() + " of loadBalancers[" + i + "].listeners[" + l + "]");
                        return;
                    }
                }
            }
        }
    }
}
