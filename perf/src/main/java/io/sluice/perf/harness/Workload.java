package io.sluice.perf.harness;

/** Drives load at a target for a bounded time and reports what the client saw. */
@FunctionalInterface
public interface Workload
{
    Measurement run(BenchContext ctx, Target target, double seconds) throws Exception;
}
