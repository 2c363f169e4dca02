package io.sluice.control;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sluice bench tls} with the sluice subject (a keyless https listener, the key in a {@code sluice keyserver}
 * process beside the node in lb1), from the unpacked tarball: perf's HarnessTest runs before control is built in a fresh
 * reactor, so in CI it reports the subject "missing" and checks nothing of it. One run of the ECDSA case with a measured
 * part long enough (3 s) for the subject's full warm-up: 30 s of h2load, then 5 s h2load slices until the compilers of
 * both JVMs are quiet, which {@code extraWarmupSeconds} reports.
 */
class BenchTlsIT
{
    private static final String CASE = "tls13-ecdsa-p256";
    /** h2load slices of the warm-up after the harness's; two quiet ones in a row end it, 120 s of them at most. */
    private static final double SLICE_SECONDS = 5;
    private static final double QUIET_SLICES = 2;
    private static final double MOST_EXTRA_WARMUP_SECONDS = 120;

    @TempDir
    Path dir;

    @Test
    void shouldWarmTheNodeAndKeyServerUntilTheirCompilersAreQuietAndReportTheirCpuByRole() throws Exception
    {
        final DistributionIT.Bench bench = DistributionIT.bench(dir, DistributionIT.unpack(dir), 360, "tls", "--cases", CASE,
            "--subjects", "sluice", "--runs", "1", "--seconds", "3", "--warmup", "0");

        final JsonNode subject = bench.subject(CASE, "sluice");
        assertThat(subject.path("status").asText()).as(subject.path("reason").asText() + "\n" + bench.log()).isEqualTo("ok");
        assertThat(subject.path("median").asDouble()).as("handshakes/s").isPositive();
        assertThat(subject.path("costMedian").asDouble()).isPositive();
        final JsonNode extra = subject.path("extra");
        // every request of every h2load round succeeded: a handshake (signed by the key server) and a proxied response
        assertThat(extra.path("failures").asDouble(-1)).as(extra.toString()).isZero();
        assertThat(extra.path("unitsPerProcessCpuSecond").asDouble()).as(extra.toString()).isPositive();
        final double extraWarmup = extra.path("extraWarmupSeconds").asDouble(-1);
        assertThat(extraWarmup).as(extra.toString()).isBetween(QUIET_SLICES * SLICE_SECONDS, MOST_EXTRA_WARMUP_SECONDS);
        assertThat(extraWarmup % SLICE_SECONDS).as(extra.toString()).isZero();
        // each handshake runs on an event loop, sends its signature request through the key-server client and is signed
        // in the key server process: all three work in the measured part
        assertThat(extra.path("eventLoopCpuUsPerUnit").asDouble()).as(extra.toString()).isPositive();
        assertThat(extra.path("keyServerCpuUsPerUnit").asDouble()).as(extra.toString()).isPositive();
        assertThat(extra.path("keyServerClientCpuUsPerUnit").asDouble()).as(extra.toString()).isPositive();
        // quiet compilers and a collector that may not have run: present, never negative
        assertThat(extra.path("jitCpuUsPerUnit").asDouble(-1)).as(extra.toString()).isGreaterThanOrEqualTo(0.0);
        assertThat(extra.path("gcCpuUsPerUnit").asDouble(-1)).as(extra.toString()).isGreaterThanOrEqualTo(0.0);
        assertThat(extra.path("otherCpuUsPerUnit").asDouble(-1)).as(extra.toString()).isGreaterThanOrEqualTo(0.0);
        assertThat(extra.path("softirqUsPerUnit").asDouble(-1)).as(extra.toString()).isGreaterThanOrEqualTo(0.0);
    }
}
