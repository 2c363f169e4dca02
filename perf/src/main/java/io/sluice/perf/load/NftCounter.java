package io.sluice.perf.load;

import io.sluice.testbed.Testbed;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packet sink: an nftables rule in a node's namespace that counts and drops the generator's
 * UDP packets at prerouting (priority raw, before conntrack), so the count costs almost nothing
 * and no socket has to keep up. One table per node, read as a delta between two snapshots.
 */
public final class NftCounter
{
    public static final String TABLE = "sluicesink";
    private static final Pattern PACKETS = Pattern.compile("packets (\\d+) bytes (\\d+)");

    private NftCounter()
    {
    }

    /** Counts and drops UDP to ports [firstPort, lastPort] arriving in {@code node}. */
    public static void install(final Testbed testbed, final String node, final int firstPort, final int lastPort)
    {
        install(testbed, node, firstPort, lastPort, null);
    }

    /** As {@link #install(Testbed, String, int, int)}, only for packets received on {@code iifname} (null: any). */
    public static void install(final Testbed testbed, final String node, final int firstPort, final int lastPort,
        final String iifname)
    {
        remove(testbed, node);
        final String script = """
            table inet %1$s {
                counter pkts { }
                chain pre {
                    type filter hook prerouting priority raw; policy accept;
                    %4$sudp dport %2$d-%3$d counter name pkts drop
                }
            }
            """.formatted(TABLE, firstPort, lastPort, iifname == null ? "" : "iifname \"" + iifname + "\" ");
        testbed.execChecked(node, "sh", "-c", "printf '%s' \"$0\" | nft -f -", script);
    }

    public static void remove(final Testbed testbed, final String node)
    {
        testbed.exec(node, "nft", "delete", "table", "inet", TABLE);
    }

    /** Packets counted so far in {@code node}. */
    public static long packets(final Testbed testbed, final String node)
    {
        final String out = testbed.execChecked(node, "nft", "list", "counter", "inet", TABLE, "pkts").output();
        final Matcher m = PACKETS.matcher(out);
        if (!m.find())
        {
            throw new IllegalStateException("no counter in: " + out);
        }
        return Long.parseLong(m.group(1));
    }
}
