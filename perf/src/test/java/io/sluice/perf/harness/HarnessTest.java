package io.sluice.perf.harness;

import io.sluice.perf.report.BenchReport;
import io.sluice.perf.report.PerformanceReport;
import io.sluice.perf.report.ReportJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HarnessTest
{
    @Test
    void shouldRunTinyVersionOfEveryBenchmarkAndReportEveryBaseline(@TempDir final Path tmp) throws Exception
    {
        final ByteArrayOutputStream progress = new ByteArrayOutputStream();
        final Settings settings = Settings.defaults().withRuns(1).withRunSeconds(1).withWarmupSeconds(0);

        final BenchReport report = new Harness(settings, new PrintStream(progress, true, StandardCharsets.UTF_8))
            .testbedPrefix("tb" + Long.toHexString(ProcessHandle.current().pid()) + "h")
            .run(List.of("all"), "test");

        assertThat(report.benchmarks()).extracting(BenchReport.Benchmark::name).containsExactly("l4", "l7", "tls", "sync");
        assertThat(report.benchmarks().get(3).status()).isEqualTo("not-yet-available");
        for (final BenchReport.Benchmark benchmark : report.benchmarks().subList(0, 3))
        {
            assertThat(benchmark.cases()).isNotEmpty();
            for (final BenchReport.Case c : benchmark.cases())
            {
                for (final BenchReport.SubjectResult subject : c.subjects())
                {
                    if (subject.name().startsWith("sluice") && sluiceNotRunnable(subject))
                    {
                        continue;
                    }
                    assertThat(subject.status()).as("%s/%s: %s", c.name(), subject.name(), subject.reason()).isEqualTo("ok");
                    assertThat(subject.median()).as("%s/%s", c.name(), subject.name()).isPositive();
                    assertThat(subject.costMedian()).as("%s/%s cost", c.name(), subject.name()).isNotNull();
                    if (benchmark.name().equals("l4") && subject.name().equals("sluice"))
                    {
                        assertThat(subject.extra()).as("%s/sluice forwarder CPU", c.name()).containsKey("forwarderCpuUsPerUnit");
                    }
                    if (benchmark.name().equals("l7"))
                    {
                        // read from wrk's distribution: present, positive and not above p99
                        assertThat(subject.extra().get("p90Ms")).as("%s/%s p90", c.name(), subject.name())
                            .isPositive().isLessThanOrEqualTo(subject.extra().get("p99Ms"));
                    }
                    if (benchmark.name().equals("l7") && !subject.name().equals("direct"))
                    {
                        // schedstat deltas of real serving threads: a number, never negative (NaN: never started)
                        assertThat(subject.extra().get("runqPercent")).as("%s/%s run queue", c.name(), subject.name())
                            .isNotNaN().isGreaterThanOrEqualTo(0.0);
                    }
                    if (benchmark.name().equals("l7") && subject.name().startsWith("sluice"))
                    {
                        assertThat(subject.extra()).as("%s/%s CPU by role", c.name(), subject.name())
                            .containsKeys("eventLoopCpuUsPerUnit", "jitCpuUsPerUnit", "gcCpuUsPerUnit", "otherCpuUsPerUnit");
                        // every request crossed an event loop: its CPU must have been found by thread name
                        assertThat(subject.extra().get("eventLoopCpuUsPerUnit")).as("%s/%s event loop CPU", c.name(), subject.name())
                            .isPositive();
                    }
                }
            }
        }
        final List<String> sluiceSubjects = report.benchmarks().stream().flatMap(b -> b.cases().stream())
            .flatMap(c -> c.subjects().stream()).map(BenchReport.SubjectResult::name).filter(n -> n.startsWith("sluice")).toList();
        assertThat(sluiceSubjects).contains("sluice-shared", "sluice-throughput", "sluice");
        assertThat(report.machine().cores()).isPositive();
        assertThat(report.machine().kernel()).isNotBlank();
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("[l4] udp-64B run 1/1");

        final Path json = tmp.resolve("bench.json");
        ReportJson.write(report, json);
        final BenchReport back = ReportJson.read(json);
        assertThat(back).isEqualTo(report);
        final String md = PerformanceReport.markdown(back, "docs/perf/bench.json");
        assertThat(md).contains("## l4", "## l7", "## tls", "nftables-dnat", "haproxy", "nginx", "ratio to", "not-yet-available",
            "sluice-shared");
    }

    @Test
    void shouldRunOnlyTheNamedCasesAndSubjects() throws Exception
    {
        final Settings settings = Settings.defaults().withRuns(1).withRunSeconds(1).withWarmupSeconds(0);

        final BenchReport report = new Harness(settings, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
            .testbedPrefix("tb" + Long.toHexString(ProcessHandle.current().pid()) + "c")
            .onlyCases(java.util.Set.of("tcp-connect")).onlySubjects(java.util.Set.of("direct"))
            .run(List.of("l4"), "test");

        assertThat(report.benchmarks()).singleElement().satisfies(b ->
            assertThat(b.cases()).singleElement().satisfies(c ->
            {
                assertThat(c.name()).isEqualTo("tcp-connect");
                assertThat(c.subjects()).singleElement().satisfies(s ->
                {
                    assertThat(s.name()).isEqualTo("direct");
                    assertThat(s.status()).isEqualTo("ok");
                    assertThat(s.median()).isPositive();
                });
            }));
    }

    /**
     * The AF_XDP reflector takes every frame lb1 receives, ARP too: run first on a fresh testbed (nothing had made the
     * router learn lb1's MAC) its every packet died at the router and the run read 0 packets/s.
     */
    @Test
    void shouldDeliverReflectedPacketsWhenTheReflectorRunsFirstOnAFreshTestbed() throws Exception
    {
        final Settings settings = Settings.defaults().withRuns(1).withRunSeconds(1).withWarmupSeconds(0);

        final BenchReport report = new Harness(settings, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
            .testbedPrefix("tb" + Long.toHexString(ProcessHandle.current().pid()) + "x")
            .onlyCases(java.util.Set.of("udp-64B")).onlySubjects(java.util.Set.of("af-xdp-reflector"))
            .run(List.of("l4"), "test");

        assertThat(report.benchmarks().getFirst().cases()).singleElement().satisfies(c ->
            assertThat(c.subjects()).singleElement().satisfies(s ->
            {
                assertThat(s.status()).as(s.reason()).isEqualTo("ok");
                assertThat(s.median()).isPositive();
                assertThat(s.extra().get("lossPercent")).isLessThan(50.0);
            }));
    }

    /**
     * Without a distribution (control is built after perf in a fresh reactor) every sluice subject is missing with
     * how to build one; with one, every sluice subject (L7, L4 through the fastpath on lb1's two links, keyless TLS)
     * must run like any baseline.
     */
    private static boolean sluiceNotRunnable(final BenchReport.SubjectResult subject)
    {
        if (io.sluice.perf.subjects.Launcher.find().isEmpty())
        {
            assertThat(subject.status()).as(subject.name()).isEqualTo("missing");
            assertThat(subject.reason()).contains("no sluice distribution");
            return true;
        }
        return false;
    }
}
