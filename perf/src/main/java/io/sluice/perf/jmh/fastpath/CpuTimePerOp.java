package io.sluice.perf.jmh.fastpath;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Thread CPU time per operation, printed after each iteration. On this 2-core machine shared with other workloads,
 * wall-clock ns/op (JMH's score) includes time the benchmark thread spent descheduled; CPU time does not.
 */
final class CpuTimePerOp
{
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private long cpuStart;
    private long wallStart;
    long ops;

    void start()
    {
        ops = 0;
        cpuStart = THREADS.getCurrentThreadCpuTime();
        wallStart = System.nanoTime();
    }

    void stop(final String name)
    {
        final long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
        final long wall = System.nanoTime() - wallStart;
        if (ops > 0)
        {
            System.out.printf("%n[%s] cpu %.1f ns/op, wall %.1f ns/op, on-cpu %.0f%%, ops %d%n", name, cpu / (double)ops,
                wall / (double)ops, 100.0 * cpu / wall, ops);
        }
    }
}
