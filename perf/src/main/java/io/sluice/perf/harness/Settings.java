package io.sluice.perf.harness;

/**
 * Harness settings: runs per subject (median of these), seconds per run, backends, and the CPUs
 * for the subject and for load + backends (-1 leaves placement to the scheduler). On this 2-core
 * machine kind the subject gets CPU 1 and everything else CPU 0, as in the FACTS baselines.
 */
public record Settings(int runs, double runSeconds, int backends, int subjectCpu, int loadCpu, String profile)
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
        if (backends < 1 || backends > 8)
        {
            throw new IllegalArgumentException("backends: " + backends + " is not in 1..8");
        }
    }

    public static Settings defaults()
    {
        final int cpus = Runtime.getRuntime().availableProcessors();
        return new Settings(3, 5, 2, cpus > 1 ? 1 : -1, cpus > 1 ? 0 : -1, "shared");
    }

    public int runsFor(final BenchCase benchCase)
    {
        return benchCase.noisy() && runs >= 3 ? Math.max(NOISY_RUNS, runs) : runs;
    }

    public Settings withRuns(final int value)
    {
        return new Settings(value, runSeconds, backends, subjectCpu, loadCpu, profile);
    }

    public Settings withRunSeconds(final double value)
    {
        return new Settings(runs, value, backends, subjectCpu, loadCpu, profile);
    }
}
