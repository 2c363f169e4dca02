package io.sluice.perf.report;

import io.sluice.perf.harness.MachineFacts;
import io.sluice.perf.harness.Settings;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PerformanceReportTest
{
    @Test
    void shouldRenderSubjectsSideBySideWithRatiosAndMissingReasons()
    {
        final BenchReport.SubjectResult nginx = new BenchReport.SubjectResult("nginx", "baseline", "nginx, 1 worker", "ok", null,
            40_000.0, 38_000.0, 41_000.0, List.of(40_000.0, 38_000.0, 41_000.0), 25.0, Map.of("p99Ms", 3.5),
            Map.of("haproxy", 0.8));
        final BenchReport.SubjectResult haproxy = new BenchReport.SubjectResult("haproxy", "baseline", "haproxy, 1 thread", "ok",
            null, 50_000.0, 49_000.0, 52_000.0, List.of(50_000.0, 49_000.0, 52_000.0), 20.0, Map.of("p99Ms", 2.5),
            Map.of("nginx", 1.25));
        final BenchReport.SubjectResult sluice = new BenchReport.SubjectResult("sluice", "sluice", "sluice node", "missing",
            "not built yet", null, null, null, List.of(), null, Map.of(), Map.of());
        final BenchReport report = new BenchReport(BenchReport.SCHEMA, "2026-11-26T05:00:00Z", "./sluice bench l7",
            new MachineFacts(2, "cpu", "6.18", "25", "shared", 1024, "7.50 6.00 5.00", Map.of("wrk", "wrk 4.1")),
            Settings.defaults(), List.of(new BenchReport.Benchmark("l7", "L7", "ok", null, List.of(new BenchReport.Case(
                "http1-keepalive", "HTTP/1.1", "requests/s", "CPU-µs/request", "wrk", 3, List.of(nginx, haproxy, sluice))))));

        final String md = PerformanceReport.markdown(report, "docs/perf/latest.json");

        assertThat(md).contains("| nginx | baseline | 40.0 k | 38.0 k – 41.0 k | 25.00 | 3.50 | 1 | 0.80× |");
        assertThat(md).contains("| haproxy | baseline | 50.0 k | 49.0 k – 52.0 k | 20.00 | 2.50 | 1.25× | 1 |");
        assertThat(md).contains("| sluice | sluice | **missing** | not built yet |");
        assertThat(md).contains("./sluice bench l7", "Caution: the machine was busy", "load average 7.5 on 2 cores");
    }

    @Test
    void shouldAppendTheFiguresMeasuredOutsideTheHarnessKeptBesideTheJson(@org.junit.jupiter.api.io.TempDir final java.nio.file.Path dir)
        throws java.io.IOException
    {
        final java.nio.file.Path json = dir.resolve("latest.json");
        assertThat(PerformanceReport.withMeasured("# report\n", json)).isEqualTo("# report\n");
        assertThat(PerformanceReport.withMeasured("# report\n", null)).isEqualTo("# report\n");

        java.nio.file.Files.writeString(dir.resolve(PerformanceReport.MEASURED_FILE), "## JMH\n\n| what | ns |\n\n");

        assertThat(PerformanceReport.withMeasured("# report\n", json)).isEqualTo("# report\n\n## JMH\n\n| what | ns |\n");
    }
}
