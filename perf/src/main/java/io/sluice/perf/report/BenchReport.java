package io.sluice.perf.report;

import io.sluice.perf.harness.MachineFacts;
import io.sluice.perf.harness.Settings;

import java.util.List;
import java.util.Map;

/**
 * The {@code sluice bench --json} document (schema "sluice-bench/1", described in docs/bench-schema.md).
 * Figures that do not exist (a missing subject) are null, never NaN.
 */
public record BenchReport(String schema, String generatedAt, String command, MachineFacts machine, Settings settings,
                          List<Benchmark> benchmarks)
{
    public static final String SCHEMA = "sluice-bench/1";

    /** One of l4, l7, tls, sync. Status "ok", or "not-yet-available" with a note. */
    public record Benchmark(String name, String title, String status, String note, List<Case> cases)
    {
    }

    /** One comparison of subjects on one workload. */
    public record Case(String name, String title, String unit, String costUnit, String load, int runs, List<SubjectResult> subjects)
    {
    }

    /**
     * One subject's figures: status "ok" | "missing" (cannot run here; reason says why) | "failed"
     * (reason has the error). median/min/max over the runs in the case's unit; costMedian in the
     * case's cost unit; extra holds medians of side figures (p50Ms, p99Ms, lossPercent, ...);
     * ratios maps every other ok subject's name to median / that subject's median.
     */
    public record SubjectResult(String name, String kind, String description, String status, String reason, Double median,
                                Double min, Double max, List<Double> runs, Double costMedian, Map<String, Double> extra,
                                Map<String, Double> ratios)
    {
    }
}
