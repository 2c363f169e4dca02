package io.sluice.perf.harness;

import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time a subject spends, from /proc: user + system time of every process in the LB
 * namespaces (ip netns pids; /proc/PID/stat fields 14-15, all threads) plus the machine's softirq
 * time (/proc/stat), since forwarding, DNAT and the veth receive path run in softirq and cannot be
 * attributed to a namespace. The softirq share includes the client's and backends' receive work
 * too, so it is an upper bound for the subject and the same overhead for every subject.
 */
public final class CpuMeter
{
    private static final double TICKS_PER_SECOND = ticksPerSecond();

    /** A snapshot in seconds: processes of the namespaces, softirq of the machine. */
    public record Sample(double processSeconds, double softirqSeconds)
    {
        public double total()
        {
            return processSeconds + softirqSeconds;
        }

        public Sample minus(final Sample earlier)
        {
            return new Sample(processSeconds - earlier.processSeconds, softirqSeconds - earlier.softirqSeconds);
        }
    }

    private CpuMeter()
    {
    }

    public static Sample sample(final Testbed testbed, final List<String> nodes)
    {
        long ticks = 0;
        for (final String node : nodes)
        {
            for (final long pid : Testbed.namespacePids(testbed.ns(node)))
            {
                ticks += processTicks(pid);
            }
        }
        return new Sample(ticks / TICKS_PER_SECOND, softirqTicks() / TICKS_PER_SECOND);
    }

    static long processTicks(final long pid)
    {
        try
        {
            final String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields[0] is field 3 (state): utime is field 14, stime field 15
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0;
        }
    }

    static long softirqTicks()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/stat")))
            {
                if (line.startsWith("cpu "))
                {
                    // cpu user nice system idle iowait irq softirq ...
                    return Long.parseLong(line.trim().split("\\s+")[7]);
                }
            }
        }
        catch (final IOException | RuntimeException ignored)
        {
            // no /proc/stat: report zero softirq rather than fail the benchmark
        }
        return 0;
    }

    private static double ticksPerSecond()
    {
        final Commands.Result result = Commands.run("getconf", "CLK_TCK");
        try
        {
            return result.ok() ? Double.parseDouble(result.output().strip()) : 100;
        }
        catch (final NumberFormatException ex)
        {
            return 100;
        }
    }
}
