package io.sluice.perf.subjects;

import io.sluice.perf.harness.BenchContext;
import io.sluice.perf.harness.Measurement;
import io.sluice.perf.harness.Subject;
import io.sluice.perf.harness.Target;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A subject that is one process in lb1 listening on the VIP (nginx, HAProxy, later sluice), pinned
 * to the subject CPU, started per run and stopped with SIGTERM.
 */
public abstract class ProcessSubject implements Subject
{
    private static final long READY_TIMEOUT_MS = 20_000;

    private Process process;
    private Path log;
    /** The serving threads' wait for a CPU over the measured part (every thread of {@link #servingPids}). */
    private final ThreadSched.Window servingWait = new ThreadSched.Window(comm -> true);

    /** Writes the config under {@code dir} and returns the command line. */
    protected abstract List<String> command(BenchContext ctx, Path dir) throws Exception;

    /** The port the load goes to on the VIP. */
    protected abstract int port();

    @Override
    public Target start(final BenchContext ctx) throws Exception
    {
        final Path dir = ctx.workDir().resolve(name());
        Files.createDirectories(dir);
        final List<String> cmd = new ArrayList<>(ctx.subjectPinning());
        cmd.addAll(command(ctx, dir));
        log = dir.resolve("process.log");
        process = ctx.testbed().spawn(Testbed.LB1, log, cmd);
        try
        {
            ctx.testbed().awaitTcp(Testbed.CLIENT, AddressPlan.VIP_V4, port(), READY_TIMEOUT_MS);
        }
        catch (final IllegalStateException ex)
        {
            throw new IllegalStateException(name() + " did not come up: " + ex.getMessage() + "; log: " + tail(log), ex);
        }
        if (!process.isAlive())
        {
            throw new IllegalStateException(name() + " exited with " + process.exitValue() + ": " + tail(log));
        }
        return Target.of(AddressPlan.VIP_V4, port());
    }

    /** Whether runs report {@code runqPercent} of the serving process(es) (the L7 HTTP case; off by default). */
    protected boolean reportsRunQueue()
    {
        return false;
    }

    /** The processes whose threads serve the load: the process itself (HAProxy); nginx overrides it with its workers. */
    protected List<Long> servingPids(final Process started)
    {
        return List.of(started.pid());
    }

    @Override
    public void measureStart(final BenchContext ctx)
    {
        if (reportsRunQueue() && process != null)
        {
            servingWait.start(servingPids(process));
        }
    }

    @Override
    public Map<String, Double> measureEnd(final BenchContext ctx, final Measurement measurement)
    {
        if (!reportsRunQueue() || process == null)
        {
            return Map.of();
        }
        return Map.of("runqPercent", servingWait.runqPercent(servingPids(process)));
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

    static String tail(final Path file)
    {
        try
        {
            final String text = Files.readString(file);
            return text.length() > 1000 ? text.substring(text.length() - 1000) : text;
        }
        catch (final java.io.IOException ex)
        {
            return "(no log)";
        }
    }

    static String backendList(final BenchContext ctx, final int port, final String format)
    {
        final StringBuilder out = new StringBuilder();
        for (int k = 1; k <= ctx.testbed().backendCount(); k++)
        {
            out.append(format.formatted(Testbed.backend(k), AddressPlan.backendV4(k), port)).append('\n');
        }
        return out.toString();
    }
}
