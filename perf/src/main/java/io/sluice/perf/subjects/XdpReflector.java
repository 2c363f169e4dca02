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

/**
 * The AF_XDP reflector of native-bindings ({@code io.sluice.nativeio.xdp.XdpReflector}), the first
 * user-space data path: a JVM in lb1 attaches a redirect-all XDP program to lb1's interface towards
 * the router, receives every frame on an AF_XDP socket (copy mode: veth has no zero-copy) and sends
 * it back out with the MACs swapped. The client sends to the VIP; the router forwards to lb1, and
 * what comes back from lb1 is counted and dropped at the router's ingress on that link (so it is not
 * routed back to lb1 again). Reported as missing while the class is not on the class path.
 */
public final class XdpReflector implements Subject
{
    public static final String CLASS_NAME = "io.sluice.nativeio.xdp.XdpReflector";
    private static final long READY_TIMEOUT_MS = 30_000;

    private Process process;

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

    @Override
    public void stop(final BenchContext ctx)
    {
        if (process != null)
        {
            ctx.testbed().stop(process, 5000);
            process = null;
        }
    }
}
