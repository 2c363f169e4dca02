package io.sluice.control.node;

import io.sluice.nativeio.NativeException;
import io.sluice.nativeio.netlink.Ethtool;
import io.sluice.nativeio.netlink.RxSteeringRule;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * NIC n-tuple steering of the reply direction to its owner's queue (issue 5's ownership scheme): a reply from a backend
 * goes to a local (SNAT) address and port, and the forwarder that owns the session is {@code port mod N}. With N a power
 * of two that is {@code port & (N − 1)}, which an n-tuple rule can match ("destination address L, destination port q
 * under mask N − 1 → RX queue q"), so the NIC itself delivers every reply to the owner's queue and no forwarder has to
 * hand it off. Installed on each data interface when a node has several forwarders; where the NIC or driver has no
 * n-tuple filters (veth, many virtual NICs) the first refused rule ends the attempt on that interface, the rules already
 * in are taken out again, and replies reach their owners through hand-offs as before. The client direction stays with
 * RSS: its owner is a hash of the client's flow that no NIC computes.
 * <p>
 * The rules outlive the process in the NIC, so {@link #close()} deletes them; a node killed with SIGKILL leaves them
 * behind (they steer to queues, harmlessly, until the next start installs its own or {@code ethtool -N IF delete N}).
 */
final class ReplySteering implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(ReplySteering.class.getName());

    /** What installs and deletes rules: {@link Ethtool} on a real node; tests give their own. */
    interface Rules
    {
        int insert(String ifname, RxSteeringRule rule);

        void delete(String ifname, int location);
    }

    static final Rules ETHTOOL = new Rules()
    {
        @Override
        public int insert(final String ifname, final RxSteeringRule rule)
        {
            return Ethtool.insertRxRule(ifname, rule);
        }

        @Override
        public void delete(final String ifname, final int location)
        {
            Ethtool.deleteRxRule(ifname, location);
        }
    };

    private final String ifname;
    private final Rules rules;
    private final List<Integer> locations;

    private ReplySteering(final String ifname, final Rules rules, final List<Integer> locations)
    {
        this.ifname = ifname;
        this.rules = rules;
        this.locations = locations;
    }

    /**
     * The rules for {@code forwarders} owners and these local addresses: for each address, TCP and UDP, one rule per
     * owner q (destination port q under mask N − 1 → queue q). Empty for one forwarder (nothing to steer) or a count
     * that is not a power of two (no mask expresses {@code port mod N}).
     */
    static List<RxSteeringRule> plan(final int forwarders, final List<InetAddress> locals)
    {
        if (forwarders < 2 || Integer.bitCount(forwarders) != 1)
        {
            return List.of();
        }
        final List<RxSteeringRule> plan = new ArrayList<>();
        for (final InetAddress local : locals)
        {
            for (final int protocol : new int[] {RxSteeringRule.TCP, RxSteeringRule.UDP})
            {
                for (int owner = 0; owner < forwarders; owner++)
                {
                    plan.add(new RxSteeringRule(protocol, local.getAddress(), owner, forwarders - 1, owner));
                }
            }
        }
        return plan;
    }

    /**
     * Installs {@link #plan}'s rules on {@code ifname}, or none: the first refused rule takes the installed ones out
     * again. Logs what it did either way.
     *
     * @return the installed rules, to {@link #close()} with the node; with none when steering is not possible here.
     */
    static ReplySteering install(final String ifname, final int forwarders, final List<InetAddress> locals, final Rules rules)
    {
        final List<Integer> locations = new ArrayList<>();
        if (forwarders < 2)
        {
            return new ReplySteering(ifname, rules, locations);
        }
        final List<RxSteeringRule> plan = plan(forwarders, locals);
        if (plan.isEmpty())
        {
            LOG.log(System.Logger.Level.INFO, "n-tuple steering of replies on " + ifname + " needs a power-of-two node.forwarders ("
                + forwarders + " is not): replies that arrive at another forwarder's queue are handed off to their owner");
            return new ReplySteering(ifname, rules, locations);
        }
        final ReplySteering steering = new ReplySteering(ifname, rules, locations);
        for (final RxSteeringRule rule : plan)
        {
            try
            {
                locations.add(rules.insert(ifname, rule));
            }
            catch (final NativeException ex)
            {
                steering.close();
                LOG.log(System.Logger.Level.INFO, "no n-tuple steering of replies on " + ifname + " (" + ex.getMessage().lines()
                    .findFirst().orElse("") + "): replies that arrive at another forwarder's queue are handed off to their owner");
                return steering;
            }
        }
        LOG.log(System.Logger.Level.INFO, "n-tuple steering on " + ifname + ": " + locations.size() + " rules send replies to the "
            + locals.size() + " local address(es) to their owner's queue (port mod " + forwarders + ")");
        return steering;
    }

    /** Rules installed and not yet deleted. */
    int installed()
    {
        return locations.size();
    }

    /** Deletes the installed rules, newest first; a rule that cannot be deleted is logged and left. */
    @Override
    public void close()
    {
        for (int i = locations.size() - 1; i >= 0; i--)
        {
            final int location = locations.get(i);
            try
            {
                rules.delete(ifname, location);
            }
            catch (final NativeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "n-tuple rule " + location + " on " + ifname + " not deleted: " + ex.getMessage());
            }
        }
        locations.clear();
    }
}
