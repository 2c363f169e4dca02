package io.sluice.control.node;

import io.sluice.fastpath.ForwarderAgent;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.nativeio.NativeException;
import io.sluice.nativeio.netlink.RxSteeringRule;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The n-tuple rules that send replies to their owner's queue: which rules, that they agree with the forwarders' own SNAT
 * port choice, and all-or-nothing installation with the rules deleted again on close. The NIC side is a recording fake
 * here (no NIC of this VM has n-tuple filters: the veth case runs for real in NodeTwoForwardersTest and
 * EthtoolRxRuleTest).
 */
class ReplySteeringTest
{
    private static final InetAddress V4 = InetAddress.ofLiteral("198.18.0.10");
    private static final InetAddress V6 = InetAddress.ofLiteral("2001:2::10");

    @Test
    void shouldPlanOneRulePerOwnerProtocolAndLocalAddress()
    {
        final List<RxSteeringRule> plan = ReplySteering.plan(2, List.of(V4, V6));
        assertThat(plan).hasSize(8);
        assertThat(plan.getFirst().protocol()).isEqualTo(6);
        assertThat(plan.getFirst().dstAddress()).isEqualTo(V4.getAddress());
        assertThat(plan.getFirst().dstPortMask()).isEqualTo(1);
        assertThat(plan.stream().filter(r -> r.dstAddress().length == 16 && r.protocol() == 17).map(RxSteeringRule::queue))
            .containsExactly(0, 1);
        assertThat(plan).allMatch(r -> r.dstPort() == r.queue());
    }

    @Test
    void shouldPlanNothingForOneForwarderOrACountNoMaskExpresses()
    {
        assertThat(ReplySteering.plan(1, List.of(V4))).isEmpty();
        assertThat(ReplySteering.plan(3, List.of(V4))).isEmpty();
        assertThat(ReplySteering.plan(6, List.of(V4))).isEmpty();
    }

    @Test
    void shouldSteerEveryPortAForwarderPicksToThatForwardersQueue()
    {
        for (final int forwarders : new int[] {2, 4, 8})
        {
            final List<RxSteeringRule> plan = ReplySteering.plan(forwarders, List.of(V4));
            for (int owner = 0; owner < forwarders; owner++)
            {
                for (long hash = 0; hash < 5_000; hash += 7)
                {
                    final int port = ForwarderAgent.preferredSnatPort(hash * 0x9E3779B97F4A7C15L, owner, forwarders,
                        NodeSettings.DEFAULT_SNAT_PORT_MIN, NodeSettings.DEFAULT_SNAT_PORT_MAX);
                    final List<Integer> queues = plan.stream().filter(r -> r.protocol() == 6)
                        .filter(r -> (port & r.dstPortMask()) == r.dstPort()).map(RxSteeringRule::queue).toList();
                    assertThat(queues).as("port %d of forwarder %d of %d", port, owner, forwarders).containsExactly(owner);
                }
            }
        }
    }

    @Test
    void shouldInstallEveryRuleAndDeleteThemNewestFirstOnClose()
    {
        final Recording nic = new Recording(-1);
        final ReplySteering steering = ReplySteering.install("eth0", 4, List.of(V4), nic);
        assertThat(steering.installed()).isEqualTo(8);
        assertThat(nic.inserted).hasSize(8).allMatch(s -> s.startsWith("eth0 "));
        steering.close();
        assertThat(steering.installed()).isZero();
        assertThat(nic.deleted).containsExactly(107, 106, 105, 104, 103, 102, 101, 100);
    }

    @Test
    void shouldTakeTheInstalledRulesOutWhenTheNicRefusesOne()
    {
        final Recording nic = new Recording(3);
        final ReplySteering steering = ReplySteering.install("eth0", 2, List.of(V4, V6), nic);
        assertThat(steering.installed()).isZero();
        assertThat(nic.inserted).hasSize(2);
        assertThat(nic.deleted).containsExactly(101, 100);
        steering.close();
        assertThat(nic.deleted).hasSize(2);
    }

    @Test
    void shouldInstallNothingForOneForwarderOrThreeForwarders()
    {
        final Recording nic = new Recording(-1);
        assertThat(ReplySteering.install("eth0", 1, List.of(V4), nic).installed()).isZero();
        assertThat(ReplySteering.install("eth0", 3, List.of(V4), nic).installed()).isZero();
        assertThat(nic.inserted).isEmpty();
    }

    /** Gives locations 100, 101, ...; refuses the {@code refuseAt}-th insert (1-based) like a NIC without filters. */
    private static final class Recording implements ReplySteering.Rules
    {
        private final int refuseAt;
        private final List<String> inserted = new ArrayList<>();
        private final List<Integer> deleted = new ArrayList<>();

        Recording(final int refuseAt)
        {
            this.refuseAt = refuseAt;
        }

        @Override
        public int insert(final String ifname, final RxSteeringRule rule)
        {
            if (inserted.size() + 1 == refuseAt)
            {
                throw new NativeException("ioctl(SIOCETHTOOL, ETHTOOL_SRXCLSRLINS, " + ifname + ")", -95, null);
            }
            inserted.add(ifname + " " + rule.protocol() + " " + rule.dstPort() + "/" + rule.dstPortMask() + " -> " + rule.queue());
            return 99 + inserted.size();
        }

        @Override
        public void delete(final String ifname, final int location)
        {
            deleted.add(location);
        }
    }
}
