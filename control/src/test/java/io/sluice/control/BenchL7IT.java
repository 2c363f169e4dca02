package io.sluice.control;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
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
    @TempDir
    Path dir;

    @Test
    void shouldWarmTheNodeUntilItsCompilersAreQuietAndReportItsFiguresByRole() throws Exception
    {
        final DistributionIT.Bench bench = DistributionIT.bench(dir, DistributionIT.unpack(dir), 300, "l7", "--runs", "1",
            "--seconds", "3", "--warmup", "0", "--subjects", "sluice-shared");

        final JsonNode subject = bench.subject("http1-keepalive", "sluice-shared");
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
