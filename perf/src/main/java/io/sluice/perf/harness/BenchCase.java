package io.sluice.perf.harness;

import java.util.List;

/**
 * One comparison: a workload, the subjects run side by side on it, and how to read the figure.
 * {@code noisy} cases get 5 runs when the harness runs ≥ 3.
 */
public record BenchCase(String name, String title, String unit, String costUnit, String load, boolean noisy,
                        Workload workload, List<Subject> subjects)
{
}
