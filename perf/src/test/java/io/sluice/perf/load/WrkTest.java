package io.sluice.perf.load;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class WrkTest
{
    @Test
    void shouldParseRateLatencyPercentilesAndErrors()
    {
        final String out = """
            Running 2s test @ http://198.18.0.100:80/
              1 threads and 64 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency     1.65ms    1.02ms  20.27ms   91.40%
                Req/Sec    39.11k     2.41k   42.38k    85.00%
              Latency Distribution
                 50%    1.47ms
                 75%    1.80ms
                 90%    2.30ms
                 99%  850.00us
              77826 requests in 2.00s, 18.26MB read
              Socket errors: connect 0, read 2, write 0, timeout 1
              Non-2xx or 3xx responses: 4
            Requests/sec:  38913.09
            Transfer/sec:      9.13MB
            """;

        final Wrk.Result result = Wrk.parse(out);

        assertThat(result.requestsPerSecond()).isEqualTo(38913.09);
        assertThat(result.requests()).isEqualTo(77826);
        assertThat(result.p50Ms()).isEqualTo(1.47);
        assertThat(result.p90Ms()).isEqualTo(2.30);
        assertThat(result.p99Ms()).isCloseTo(0.85, within(1e-9));
        assertThat(result.errors()).isEqualTo(7);
    }

    @Test
    void shouldReadP90InSecondsAndReportNoPercentileWhenWrkPrintedNoDistribution()
    {
        final String withSeconds = """
              Latency Distribution
                 50%  900.00us
                 75%    1.20ms
                 90%    1.02s
                 99%    2.50s
              10 requests in 2.00s, 1.00KB read
            Requests/sec:      5.00
            """;
        final String without = """
              10 requests in 2.00s, 1.00KB read
            Requests/sec:      5.00
            """;

        assertThat(Wrk.parse(withSeconds).p90Ms()).isCloseTo(1020.0, within(1e-9));
        assertThat(Wrk.parse(withSeconds).p50Ms()).isCloseTo(0.9, within(1e-9));
        assertThat(Wrk.parse(without).p90Ms()).isNaN();
    }

    @Test
    void shouldPassHeadersBeforeTheUrlAndPinWhenAskedTo()
    {
        assertThat(Wrk.command("http://198.18.0.100:80/", 1, 64, 3, 0, List.of("Connection: close")))
            .containsExactly("taskset", "-c", "0", "wrk", "-t1", "-c64", "-d3s", "--latency", "-H", "Connection: close",
                "http://198.18.0.100:80/");
        assertThat(Wrk.command("http://198.18.0.100:80/", 1, 64, 5, -1, List.of()))
            .containsExactly("wrk", "-t1", "-c64", "-d5s", "--latency", "http://198.18.0.100:80/");
    }
}
