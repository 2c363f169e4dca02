package io.sluice.perf.harness;

/**
 * Harness settings: runs per subject (median of these), seconds per run, unmeasured warm-up seconds
 * before each run (JIT-compiled subjects are not judged on their interpreter), backends, and the CPUs
 * for the subject and for load + backends (-1 leaves placement to the scheduler, the default).
 */
public record Settings(int runs, double runSeconds, double warmupSeconds, int backends, int subjectCpu, int loadCpu, String profile)
{
    public static final int NOISY_RUNS = 5;

    public Settings
    {
        if (runs < 1 || runs > 50)
        {
            throw new IllegalArgumentException("runs: " + runs + " is not in 1..50");
        }
        if (runSeconds < 0.5 || runSeconds > 120)
        {
            throw new IllegalArgumentException("runSeconds: " + runSeconds + " is not in 0.5..120");
        }
        if (warmupSeconds < 0 || warmupSeconds > 60)
        {
            throw new IllegalArgumentException("warmupSeconds: " + warmupSeconds + " is not in 0..60");
        }
        if (!java.util.List.of("latency", "throughput", "balanced", "shared").contains(profile))
        {
            throw new IllegalArgumentException("profile: '" + profile + "' is not one of latency, throughput, balanced, shared");
        }
        if (backends < 1 || backends > 8)
        {
            throw new IllegalArgumentException("backends: " + backends + " is not in 1..8");
        }
    }

    /** Not pinned: see {@link #pinned()}. */
    public static Settings defaults()
    {
        return new Settings(3, 5, 1, 2, -1, -1, "shared");
    }

    /**
     * Subject on CPU 1, load and backends on CPU 0 (the FACTS method) when there are 2+ CPUs. Only on a quiet
     * machine: on a shared 2-core VM every cross-CPU wake-up waits behind other work (HAProxy conn/s: 4.6k
     * unpinned, 0.47k pinned, same run).
     */
    public Settings pinned()
    {
        final int cpus = Runtime.getRuntime().availableProcessors();
        return new Settings(runs, runSeconds, warmupSeconds, backends, cpus > 1 ? 1 : -1, cpus > 1 ? 0 : -1, profile);
    }

    public int runsFor(final BenchCase benchCase)
    {
        return benchCase.noisy() && runs >= 3 ? Math.max(NOISY_RUNS, runs) : runs;
    }

    public Settings withRuns(final int value)
    {
        return new Settings(value, runSeconds, warmupSeconds, backends, subjectCpu, loadCpu, profile);
    }

    public Settings withRunSeconds(final double value)
    {
        return new Settings(runs, value, warmupSeconds, backends, subjectCpu, loadCpu, profile);
    }

    public Settings withWarmupSeconds(final double value)
    {
        return new Settings(runs, runSeconds, value, backends, subjectCpu, loadCpu, profile);
    }
}
