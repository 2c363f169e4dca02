package io.sluice.perf.harness;

import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Waits until a subject answers one HTTP request from the client namespace before a run measures it. A node that just
 * printed its ready line and accepts connections can still be cold (JIT, first backend connections): under load ~20 its
 * first answers took longer than the harness test's 1 s smoke run, and wrk, which counts no request still in flight
 * when it stops, reported none ("wrk completed no request"). One answered request means the measured run starts on a
 * serving subject, whatever its length.
 */
final class FirstAnswer
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    private FirstAnswer()
    {
    }

    /** @param url the URL the run's load generator will use. */
    static void await(final BenchContext ctx, final String url)
    {
        final long deadline = System.nanoTime() + TIMEOUT_NS;
        while (true)
        {
            final Commands.Result result = ctx.testbed().exec(Testbed.CLIENT, "curl", "-s", "-o", "/dev/null", "-w",
                "%{http_code}", "--max-time", "10", url);
            if (result.ok() && result.output().strip().matches("[23]\\d\\d"))
            {
                return;
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("no answer from " + url + " within "
                    + TimeUnit.NANOSECONDS.toSeconds(TIMEOUT_NS) + " s: " + result.output().strip());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
    }
}
