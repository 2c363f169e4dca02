package io.sluice.perf.subjects;

import io.sluice.perf.harness.BenchContext;
import io.sluice.perf.harness.Subject;
import io.sluice.perf.harness.Target;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The AF_XDP reflector of native-bindings ({@code io.sluice.nativeio.xdp.XdpReflector}), the first
 * user-space data path: a JVM in lb1 attaches a redirect-all XDP program to lb1's interface towards
 * the router, receives every frame on an AF_XDP socket (copy mode: veth has no zero-copy) and sends
 * it back out with the MACs swapped. The client sends to the VIP; the router forwards to lb1, and
 * what comes back from lb1 is counted and dropped at the router's ingress on that link (so it is not
 * routed back to lb1 again). Reported as missing while the class is not on the class path.
 * <p>
 * The XDP program redirects every frame to the socket, ARP too, so lb1 answers no ARP while the reflector runs (an
 * ARP request comes back to the router with its MACs swapped): the router can forward to lb1 only with lb1's MAC already
 * in its neighbour table. Run first on a fresh testbed it had none and every run-1 packet died at the router
 * (0 packets/s; after another subject the entry learnt then was still REACHABLE and it worked), so the subject gives the
 * router a permanent neighbour entry for lb1 for the run, as a static-MAC packet generator setup would.
 */
public final class XdpReflector implements Subject
{
    public static final String CLASS_NAME = "io.sluice.nativeio.xdp.XdpReflector";
    private static final long READY_TIMEOUT_MS = 30_000;
    private static final Pattern LINK_ETHER = Pattern.compile("link/ether ([0-9a-f]{2}(?::[0-9a-f]{2}){5})");

    private Process process;
    private boolean neighbourSet;

    @Override
    public String name()
    {
        return "af-xdp-reflector";
    }

    @Override
    public Kind kind()
    {
        return Kind.SLUICE;
    }

    @Override
    public String description()
    {
        return "sluice's Panama AF_XDP reflector in lb1 (copy mode, native XDP on the veth, MACs swapped, one queue): "
            + "frames go back to the router and are counted there";
    }

    @Override
    public Optional<String> unavailable(final BenchContext ctx)
    {
        try
        {
            Class.forName(CLASS_NAME, false, XdpReflector.class.getClassLoader());
            return Optional.empty();
        }
        catch (final ClassNotFoundException ex)
        {
            return Optional.of(CLASS_NAME + " is not on main yet (native-bindings helper)");
        }
    }

    @Override
    public Target start(final BenchContext ctx) throws Exception
    {
        final Testbed testbed = ctx.testbed();
        final Path dir = ctx.workDir().resolve(name());
        Files.createDirectories(dir);
        final Path ready = dir.resolve("ready");
        Files.deleteIfExists(ready);
        pinRouterNeighbour(testbed);
        final List<String> cmd = new ArrayList<>(ctx.subjectPinning());
        cmd.addAll(Testbed.javaCommand(List.of("-Xmx256m", "-XX:+UseSerialGC"), CLASS_NAME,
            List.of("--ifname", testbed.iface(Testbed.LB1, Testbed.ROUTER), "--mode", "copy", "--xdp-mode", "native",
                "--swap-macs", "--ready-file", ready.toString(), "--stats-file", dir.resolve("stats.json").toString())));
        final Path log = dir.resolve("process.log");
        process = testbed.spawn(Testbed.LB1, log, cmd);
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        while (!Files.exists(ready) && process.isAlive() && System.nanoTime() < deadline)
        {
            Thread.sleep(20);
        }
        if (!Files.exists(ready))
        {
            throw new IllegalStateException("reflector not ready" + (process.isAlive() ? " after " + READY_TIMEOUT_MS + " ms"
                : ", exit " + process.exitValue()) + ": " + ProcessSubject.tail(log));
        }
        return new Target(List.of(AddressPlan.VIP_V4), 0, List.of(Testbed.ROUTER), testbed.iface(Testbed.ROUTER, Testbed.LB1));
    }

    /** lb1's MAC on its router link as a permanent neighbour entry in the router (see the class comment). */
    private void pinRouterNeighbour(final Testbed testbed)
    {
        final String mac = macAddress(testbed.execChecked(Testbed.LB1, "ip", "-o", "link", "show", "dev",
            testbed.iface(Testbed.LB1, Testbed.ROUTER)).output());
        neighbourSet = true;
        testbed.execChecked(Testbed.ROUTER, "ip", "neigh", "replace", AddressPlan.lbUplinkV4(1), "lladdr", mac, "dev",
            testbed.iface(Testbed.ROUTER, Testbed.LB1), "nud", "permanent");
    }

    /** The MAC in one line of {@code ip -o link show}. */
    static String macAddress(final String ipLinkLine)
    {
        final Matcher m = LINK_ETHER.matcher(ipLinkLine);
        if (!m.find())
        {
            throw new IllegalStateException("no link/ether address in: " + ipLinkLine);
        }
        return m.group(1);
    }

    @Override
    public void stop(final BenchContext ctx)
    {
        if (process != null)
        {
            ctx.testbed().stop(process, 5000);
            process = null;
        }
        if (neighbourSet)
        {
            // back to learning: the next subject's lb1 kernel answers ARP again
            neighbourSet = false;
            ctx.testbed().exec(Testbed.ROUTER, "ip", "neigh", "del", AddressPlan.lbUplinkV4(1), "dev",
                ctx.testbed().iface(Testbed.ROUTER, Testbed.LB1));
        }
    }
}
