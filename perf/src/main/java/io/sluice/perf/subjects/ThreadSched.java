package io.sluice.perf.subjects;

import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * How long a process's threads waited for a CPU, from /proc/PID/task/TID/{comm,schedstat} (schedstat: ns on a CPU, ns
 * runnable but waiting on a run queue, times run). On a 2-core VM shared with load generator, backends and other work,
 * a proxy's latency tail follows that wait more than its own work: the share of the measured window its serving threads
 * were runnable but not running says how much of a p99 is queueing for a CPU. Read at measure start and end only.
 */
final class ThreadSched
{
    /** One thread at one moment: its name (comm, cut to 15 characters by the kernel) and its schedstat run delay. */
    record Task(String comm, long runDelayNs)
    {
    }

    /** The run delay of a set of serving threads over one measured window: start, then end once. */
    static final class Window
    {
        private final Predicate<String> serving;
        private Map<Long, Task> atStart = Map.of();
        private long startNs;

        Window(final Predicate<String> serving)
        {
            this.serving = serving;
        }

        void start(final List<Long> pids)
        {
            atStart = tasks(pids);
            startNs = System.nanoTime();
        }

        /** runqPercent over the window so far (NaN when it was never started). */
        double runqPercent(final List<Long> pids)
        {
            final long wallNs = System.nanoTime() - startNs;
            return startNs == 0 ? Double.NaN : ThreadSched.runqPercent(runDelayNs(atStart, tasks(pids), serving), wallNs);
        }
    }

    private ThreadSched()
    {
    }

    /** The threads of these processes by thread id (ids are unique machine-wide); gone processes have none. */
    static Map<Long, Task> tasks(final List<Long> pids)
    {
        final Map<Long, Task> tasks = new LinkedHashMap<>();
        for (final long pid : pids)
        {
            ThreadCpu.forEachTask(pid, (tid, dir, comm) ->
                tasks.put(tid, new Task(comm, runDelayNs(Files.readString(dir.resolve("schedstat"))))));
        }
        return tasks;
    }

    /** The second field of a schedstat line ("cpu_ns run_delay_ns timeslices"): ns spent runnable, waiting for a CPU. */
    static long runDelayNs(final String schedstat)
    {
        final String[] fields = schedstat.strip().split("\\s+");
        if (fields.length < 2)
        {
            throw new IllegalArgumentException("schedstat: '" + schedstat.strip() + "' has no run_delay field");
        }
        return Long.parseLong(fields[1]);
    }

    /**
     * Run delay the threads named as {@code serving} accepts accumulated between two snapshots, summed over threads; a
     * thread born in between counts from 0, one gone by the end is not counted (its last wait is unknown).
     */
    static long runDelayNs(final Map<Long, Task> before, final Map<Long, Task> after, final Predicate<String> serving)
    {
        long total = 0;
        for (final Map.Entry<Long, Task> entry : after.entrySet())
        {
            if (!serving.test(entry.getValue().comm()))
            {
                continue;
            }
            final Task then = before.get(entry.getKey());
            total += entry.getValue().runDelayNs() - (then == null ? 0 : then.runDelayNs());
        }
        return total;
    }

    /** Run delay as a percentage of the wall time of the window (several serving threads can sum past 100). */
    static double runqPercent(final long runDelayNs, final long wallNs)
    {
        return wallNs <= 0 ? Double.NaN : 100.0 * runDelayNs / wallNs;
    }
}
