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

    /** What {@link #forEachTask} hands over per thread: its id, its /proc/PID/task/TID directory and its name (comm). */
    @FunctionalInterface
    interface TaskVisitor
    {
        void visit(long tid, Path dir, String comm) throws IOException;
    }

    /**
     * Calls {@code visitor} for every thread of {@code pid} alive at the time; a thread that ends between the listing and
     * a read is skipped (it has nothing left to count), a process that is gone has no threads.
     */
    static void forEachTask(final long pid, final TaskVisitor visitor)
    {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task")))
        {
            for (final Path task : tasks.toList())
            {
                try
                {
                    visitor.visit(Long.parseLong(task.getFileName().toString()), task, Files.readString(task.resolve("comm")).strip());
                }
                catch (final IOException | RuntimeException ex)
                {
                    // the thread ended between the listing and the read
                }
            }
        }
        catch (final IOException ex)
        {
            // the process is gone
        }
    }

    /**
     * utime + stime in clock ticks summed by role, {@code role} naming each thread's role from its name (one pass over the
     * process's threads; threads alive at the time).
     */
    static Map<String, Long> ticksByRole(final long pid, final Function<String, String> role)
    {
        final Map<String, Long> ticks = new LinkedHashMap<>();
        forEachTask(pid, (tid, dir, comm) -> ticks.merge(role.apply(comm), ticks(Files.readString(dir.resolve("stat"))), Long::sum));
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
        forEachTask(pid, (tid, dir, comm) ->
        {
            if (comm.startsWith(prefix))
            {
                ticks.put(tid, ticks(Files.readString(dir.resolve("stat"))));
            }
        });
        return ticks;
    }
}
