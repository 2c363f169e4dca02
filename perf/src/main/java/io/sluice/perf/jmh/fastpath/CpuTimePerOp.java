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
    /** CPU time of the measured batches only, when the benchmark reads the clock around them ({@link #measured}). */
    private long measuredCpu;

    void start()
    {
        ops = 0;
        measuredCpu = 0;
        cpuStart = THREADS.getCurrentThreadCpuTime();
        wallStart = System.nanoTime();
    }

    /** Adds one measured batch: its thread CPU time and operation count. */
    void measured(final long cpuNs, final int batchOps)
    {
        measuredCpu += cpuNs;
        ops += batchOps;
    }

    void stop(final String name)
    {
        final long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
        final long wall = System.nanoTime() - wallStart;
        if (ops > 0 && measuredCpu > 0)
        {
            System.out.printf("%n[%s] cpu %.1f ns/op (measured batches only; whole iteration incl. setup %.1f), " +
                "on-cpu %.0f%%, ops %d%n", name, measuredCpu / (double)ops, cpu / (double)ops, 100.0 * cpu / wall, ops);
        }
        else if (ops > 0)
        {
            System.out.printf("%n[%s] cpu %.1f ns/op, wall %.1f ns/op, on-cpu %.0f%%, ops %d%n", name, cpu / (double)ops,
                wall / (double)ops, 100.0 * cpu / wall, ops);
        }
    }
}
