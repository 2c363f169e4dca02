package io.sluice.perf.subjects;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * CPU time of a process's threads picked by name, from /proc/PID/task/TID/{comm,stat}. Busy-spin CPU% says nothing
 * about the work a forwarder does; with the shared profile (back off, then park) its CPU time is close to its work.
 */
final class ThreadCpu
{
    /** The fastpath's forwarder agents' thread names ("fastpath-forwarder-N", cut by the kernel to 15 characters). */
    static final String FORWARDER_PREFIX = "fastpath-forw";
    static final double TICKS_PER_SECOND = 100.0;

    private ThreadCpu()
    {
    }

    /**
     * utime + stime in clock ticks summed by role, {@code role} naming each thread's role from its name (one pass over the
     * process's threads; threads alive at the time).
     */
    static Map<String, Long> ticksByRole(final long pid, final Function<String, String> role)
    {
        final Map<String, Long> ticks = new LinkedHashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task")))
        {
            for (final Path task : tasks.toList())
            {
                try
                {
                    final String name = role.apply(Files.readString(task.resolve("comm")).strip());
                    ticks.merge(name, ticks(Files.readString(task.resolve("stat"))), Long::sum);
                }
                catch (final IOException | RuntimeException ex)
                {
                    // the thread ended between the listing and the read: it has no time left to count
                }
            }
        }
        catch (final IOException ex)
        {
            return Map.of();
        }
        return ticks;
    }

    /** utime + stime of a /proc/PID/task/TID/stat line, in clock ticks. */
    static long ticks(final String stat)
    {
        final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state): utime is field 14, stime field 15
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** utime + stime in clock ticks by thread id, for the threads whose name starts with {@code prefix}. */
    static Map<Long, Long> ticksByThread(final long pid, final String prefix)
    {
        final Map<Long, Long> ticks = new LinkedHashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task")))
        {
            for (final Path task : tasks.toList())
            {
                try
                {
                    if (!Files.readString(task.resolve("comm")).strip().startsWith(prefix))
                    {
                        continue;
                    }
                    ticks.put(Long.parseLong(task.getFileName().toString()), ticks(Files.readString(task.resolve("stat"))));
                }
                catch (final IOException | RuntimeException ex)
                {
                    // the thread ended between the listing and the read: it has no time left to count
                }
            }
        }
        catch (final IOException ex)
        {
            return Map.of();
        }
        return ticks;
    }
}
