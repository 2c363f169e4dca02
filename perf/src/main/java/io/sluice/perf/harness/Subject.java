package io.sluice.perf.harness;

import java.util.Optional;

/**
 * Something measured: a baseline (kernel forwarding, nftables, HAProxy, nginx), a reference
 * (the generator alone, direct to a backend) or sluice. A subject starts what it needs in the LB
 * namespace (processes via {@code ctx.testbed().spawn("lb1", ...)}, rules via exec) and says where
 * the load should go. Sluice joins as one more subject: {@code bin/sluice node --config F} spawned
 * in lb1, exactly like nginx.
 */
public interface Subject
{
    enum Kind
    {
        /** What the subject is compared against. */
        BASELINE,
        /** A bound of the setup itself (generator ceiling, no LB at all). */
        REFERENCE,
        /** sluice itself. */
        SLUICE
    }

    String name();

    Kind kind();

    /** One line for the report: what runs and how it is configured. */
    String description();

    /** Why this subject cannot run here (missing package or class), or empty when it can. */
    default Optional<String> unavailable(final BenchContext ctx)
    {
        return Optional.empty();
    }

    /** Starts the subject for one run and returns where the load goes. */
    Target start(BenchContext ctx) throws Exception;

    /**
     * Unmeasured load this subject gets before each run at least, whatever {@code --warmup} says: a JVM subject's
     * measured part must not include its JIT compiling the hot path (0: the setting alone).
     */
    default double minWarmupSeconds()
    {
        return 0;
    }

    /** Called just before the measured part of a run (after the warm-up). */
    default void measureStart(final BenchContext ctx)
    {
    }

    /** Figures of the subject's own over the measured part (e.g. forwarder CPU per packet), added to the run's extra. */
    default java.util.Map<String, Double> measureEnd(final BenchContext ctx, final Measurement measurement)
    {
        return java.util.Map.of();
    }

    /** Stops what {@link #start} started and removes its rules; must be safe after a failed start. */
    void stop(BenchContext ctx) throws Exception;
}
