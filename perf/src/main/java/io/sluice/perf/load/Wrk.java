package io.sluice.perf.load;

import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** wrk (HTTP/1.1 keep-alive load) run in the client namespace, output parsed for req/s and latency percentiles. */
public final class Wrk
{
    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");
    private static final Pattern ERRORS = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");
    private static final Pattern SOCKET_ERRORS = Pattern.compile(
        "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    /** Requests per second, total requests, p50, p90 and p99 latency in ms (NaN when wrk printed none), errors. */
    public record Result(double requestsPerSecond, long requests, double p50Ms, double p90Ms, double p99Ms, long errors)
    {
    }

    private Wrk()
    {
    }

    public static Result run(final Testbed testbed, final String url, final int threads, final int connections,
        final int seconds, final int cpu)
    {
        return run(testbed, url, threads, connections, seconds, cpu, List.of());
    }

    /** As {@link #run(Testbed, String, int, int, int, int)}, every request with these headers too ({@code "Connection: close"}). */
    public static Result run(final Testbed testbed, final String url, final int threads, final int connections,
        final int seconds, final int cpu, final List<String> headers)
    {
        final List<String> command = command(url, threads, connections, seconds, cpu, headers);
        // not Testbed.exec: its 30 s bound killed the 30 s warm-up the L7 sluice subject asks for
        final List<String> inClient = new java.util.ArrayList<>(List.of("ip", "netns", "exec", testbed.ns("client")));
        inClient.addAll(command);
        final Commands.Result result = Commands.run(inClient, (seconds + 30L) * 1_000L);
        result.check();
        return parse(result.output());
    }

    static List<String> command(final String url, final int threads, final int connections, final int seconds, final int cpu,
        final List<String> headers)
    {
        final List<String> command = new java.util.ArrayList<>();
        if (cpu >= 0)
        {
            command.addAll(List.of("taskset", "-c", Integer.toString(cpu)));
        }
        command.addAll(List.of("wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency"));
        for (final String header : headers)
        {
            command.addAll(List.of("-H", header));
        }
        command.add(url);
        return command;
    }

    static Result parse(final String out)
    {
        final Matcher rps = RPS.matcher(out);
        if (!rps.find())
        {
            throw new IllegalStateException("wrk printed no Requests/sec: " + out);
        }
        final Matcher requests = REQUESTS.matcher(out);
        long errors = 0;
        final Matcher non2xx = ERRORS.matcher(out);
        if (non2xx.find())
        {
            errors += Long.parseLong(non2xx.group(1));
        }
        final Matcher sock = SOCKET_ERRORS.matcher(out);
        if (sock.find())
        {
            for (int g = 1; g <= 4; g++)
            {
                errors += Long.parseLong(sock.group(g));
            }
        }
        return new Result(Double.parseDouble(rps.group(1)), requests.find() ? Long.parseLong(requests.group(1)) : 0,
            percentile(out, "50%"), percentile(out, "90%"), percentile(out, "99%"), errors);
    }

    private static double percentile(final String out, final String label)
    {
        final Matcher m = Pattern.compile("\\s" + Pattern.quote(label) + "\\s+([0-9.]+)(us|ms|s)").matcher(out);
        if (!m.find())
        {
            return Double.NaN;
        }
        final double value = Double.parseDouble(m.group(1));
        return switch (m.group(2))
        {
            case "us" -> value / 1000;
            case "s" -> value * 1000;
            default -> value;
        };
    }
}
