package io.sluice.perf.subjects;

import io.sluice.perf.harness.BenchContext;
import io.sluice.perf.harness.Subject;
import io.sluice.perf.harness.Target;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.BackendPorts;
import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * nftables DNAT in lb1: {@code dnat to numgen inc mod N map { 0 : be1, ... }} for UDP to the VIP's
 * ports 9000-9999 and TCP to the VIP's echo port; conntrack keeps each flow on its backend and
 * un-NATs the replies (backends route via lb1). TIME_WAIT in conntrack is cut to 1 s in lb1,
 * else connection-rate runs fill the table with closed connections (120 s by default).
 */
public final class NftablesDnat implements Subject
{
    public static final String TABLE = "sluicebench";
    private final int tcpPort;

    public NftablesDnat(final int tcpPort)
    {
        this.tcpPort = tcpPort;
    }

    @Override
    public String name()
    {
        return "nftables-dnat";
    }

    @Override
    public Kind kind()
    {
        return Kind.BASELINE;
    }

    @Override
    public String description()
    {
        return "nftables DNAT in lb1, `numgen inc` over the backends, conntrack (kernel " + "data path)";
    }

    @Override
    public Optional<String> unavailable(final BenchContext ctx)
    {
        return Commands.available("nft") ? Optional.empty() : Optional.of("nft not installed (Debian package nftables)");
    }

    @Override
    public Target start(final BenchContext ctx)
    {
        final Testbed testbed = ctx.testbed();
        final List<String> entries = new ArrayList<>();
        for (int k = 1; k <= testbed.backendCount(); k++)
        {
            entries.add((k - 1) + " : " + AddressPlan.backendV4(k));
        }
        final String map = "numgen inc mod " + testbed.backendCount() + " map { " + String.join(", ", entries) + " }";
        final String script = """
            table ip %1$s {
                chain pre {
                    type nat hook prerouting priority dstnat; policy accept;
                    ip daddr %2$s udp dport 9000-9999 dnat to %3$s
                    ip daddr %2$s tcp dport %4$d dnat to %3$s
                }
            }
            """.formatted(TABLE, AddressPlan.VIP_V4, map, tcpPort);
        testbed.exec(Testbed.LB1, "nft", "delete", "table", "ip", TABLE);
        testbed.execChecked(Testbed.LB1, "sh", "-c", "printf '%s' \"$0\" | nft -f -", script);
        testbed.exec(Testbed.LB1, "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=1",
            "net.netfilter.nf_conntrack_tcp_timeout_close=1");
        // flush flows of an earlier run so numgen spreads this run's flows afresh
        testbed.exec(Testbed.LB1, "sh", "-c", "command -v conntrack >/dev/null && conntrack -F");
        return new Target(List.of(AddressPlan.VIP_V4), tcpPort, References.backendNodes(ctx));
    }

    @Override
    public void stop(final BenchContext ctx)
    {
        ctx.testbed().exec(Testbed.LB1, "nft", "delete", "table", "ip", TABLE);
    }

    /** The TCP port the default constructor forwards: the backends' echo port. */
    public static NftablesDnat forEcho()
    {
        return new NftablesDnat(BackendPorts.TCP_ECHO);
    }
}
