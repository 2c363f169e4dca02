package io.sluice.perf.load;

import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * New-handshake rate with h2load: each invocation opens {@code connections} TLS connections at
 * once and sends one request on each (-n = -c), so every request costs a full handshake; rounds
 * repeat until the time is up. Handshakes/s = succeeded requests / summed h2load wall time.
 * (h2load has no "new connection per request" mode; -D can hang when the server closes.)
 */
public final class H2load
{
    private static final Pattern FINISHED = Pattern.compile("finished in ([0-9.]+)(ms|s)");
    private static final Pattern REQUESTS = Pattern.compile("requests: (\\d+) total, (\\d+) started, (\\d+) done, (\\d+) succeeded");

    /** Handshakes completed (= succeeded requests), failures, summed h2load time. */
    public record Result(long handshakes, long failures, double seconds, int rounds)
    {
        public double handshakesPerSecond()
        {
            return seconds == 0 ? 0 : handshakes / seconds;
        }
    }

    private H2load()
    {
    }

    public static Result run(final Testbed testbed, final String url, final int connections, final double seconds, final int cpu)
    {
        final long deadline = System.nanoTime() + (long)(seconds * 1e9);
        long handshakes = 0;
        long failures = 0;
        double time = 0;
        int rounds = 0;
        do
        {
            final List<String> command = new ArrayList<>();
            if (cpu >= 0)
            {
                command.addAll(List.of("taskset", "-c", Integer.toString(cpu)));
            }
            command.addAll(List.of("h2load", "-n", Integer.toString(connections), "-c", Integer.toString(connections),
                "-t", "1", url));
            final Commands.Result result = testbed.exec("client", command.toArray(String[]::new));
            final Matcher finished = FINISHED.matcher(result.output());
            final Matcher requests = REQUESTS.matcher(result.output());
            if (!finished.find() || !requests.find())
            {
                throw new IllegalStateException("h2load output not understood: " + result.output());
            }
            final double value = Double.parseDouble(finished.group(1));
            time += finished.group(2).equals("ms") ? value / 1000 : value;
            final long succeeded = Long.parseLong(requests.group(4));
            handshakes += succeeded;
            failures += Long.parseLong(requests.group(1)) - succeeded;
            rounds++;
        }
        while (System.nanoTime() < deadline);
        return new Result(handshakes, failures, time, rounds);
    }
}
