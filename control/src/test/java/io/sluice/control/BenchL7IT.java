package io.sluice.control;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sluice bench l7} with sluice as a subject, from the unpacked tarball. The perf module's HarnessTest runs before
 * control is built in a fresh reactor, so there every sluice subject is "missing" (CI); this runs the real node once
 * with a measured part long enough (3 s) for the subject's full warm-up: 30 s of wrk, then wrk slices (the first one a
 * connection per request) until the node's compilers are quiet, which {@code extraWarmupSeconds} reports.
 */
class BenchL7IT
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void shouldWarmTheNodeUntilItsCompilersAreQuietAndReportItsFiguresByRole() throws Exception
    {
        final Path home = DistributionIT.unpack(dir);
        final Path out = dir.resolve("l7.json");

        final Process bench = new ProcessBuilder(home.resolve("bin/sluice").toString(), "bench", "l7", "--json", "--runs", "1",
            "--seconds", "3", "--warmup", "0", "--subjects", "sluice-shared", "--out", out.toString())
            .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("bench.log").toFile()).start();
        assertThat(bench.waitFor(300, TimeUnit.SECONDS)).as("bench within 5 min").isTrue();
        assertThat(bench.exitValue()).as(Files.readString(dir.resolve("bench.log"))).isZero();

        final JsonNode subject = JSON.readTree(out.toFile()).path("benchmarks").get(0).path("cases").get(0).path("subjects").get(0);
        assertThat(subject.path("name").asText()).isEqualTo("sluice-shared");
        assertThat(subject.path("status").asText()).as(subject.path("reason").asText()).isEqualTo("ok");
        assertThat(subject.path("median").asDouble()).isPositive();
        final JsonNode extra = subject.path("extra");
        // slices of 3 s: at least the two quiet ones in a row that end it, at most the 30 s cap
        final double extraWarmup = extra.path("extraWarmupSeconds").asDouble(-1);
        assertThat(extraWarmup).isBetween(6.0, 30.0);
        assertThat(extraWarmup % 3).isZero();
        assertThat(extra.path("eventLoopCpuUsPerUnit").asDouble()).isPositive();
        assertThat(extra.path("jitCpuUsPerUnit").asDouble(-1)).isGreaterThanOrEqualTo(0.0);
        assertThat(extra.path("runqPercent").asDouble(-1)).isGreaterThanOrEqualTo(0.0);
        assertThat(extra.path("p99Ms").asDouble()).isPositive();
    }
}
