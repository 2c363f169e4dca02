package io.sluice.control.node;

import io.sluice.control.NodeFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Outbound peaks on L7 listeners in a real node: curl downloads through http listeners (from the node's own namespace,
 * over loopback, where nothing else limits them) are held to a listener's {@code bandwidthMbps}, and two listeners of a
 * load balancer with {@code bandwidthMbps} share its peak. Each download runs ≥ 5 s; the payload rate must lie within
 * 70–105 % of the peak (the 100 ms burst adds ≤ 2 % over 5 s).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeL7BandwidthTest
{
    private static final int PEAK_MBPS = 8;
    private static final double PEAK_BYTES_PER_SECOND = PEAK_MBPS * 1_000_000 / 8.0;

    @TempDir
    static Path dir;

    private NodeFixture fixture;

    @BeforeAll
    void start() throws Exception
    {
        fixture = new NodeFixture("lw", dir);
        try
        {
            NodeFixture.run("ip", "-n", fixture.netns(), "addr", "add", "198.18.10.2/32", "dev", "lo");
            fixture.spawnJava(dir.resolve("be1.log"), "io.sluice.testbed.servers.BackendMain", "--name", "be1", "--http", "8080");
            await(() -> curl("-s", "--max-time", "2", "http://198.18.10.2:8080/health").contains("ok"), 30);
            final Path stateDir = dir.resolve("state");
            final Path config = dir.resolve("node.yaml");
            Files.writeString(config, """
                apiVersion: sluice/v1
                node: {name: lw, stateDir: %s, profile: shared, drainTimeoutSeconds: 1}
                loadBalancers:
                  - name: web
                    vip: 198.18.0.100
                    listeners:
                      - {protocol: http, port: 80, serverGroup: app, bandwidthMbps: %d, healthCheck: {enabled: false}}
                    serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]
                  - name: shop
                    vip: 198.18.0.101
                    bandwidthMbps: %d
                    listeners:
                      - {protocol: http, port: 80, serverGroup: app, healthCheck: {enabled: false}}
                      - {protocol: http, port: 81, serverGroup: app, healthCheck: {enabled: false}}
                    serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]
                """.formatted(stateDir, PEAK_MBPS, PEAK_MBPS));
            fixture.startNode(config);
        }
        catch (final Exception | Error ex)
        {
            fixture.close();
            throw ex;
        }
    }

    @AfterAll
    void stop() throws Exception
    {
        fixture.close();
    }

    @Test
    void shouldHoldADownloadThroughAnHttpListenerToItsPeak() throws Exception
    {
        // 6 MB at 1 MB/s: six seconds
        final double[] download = download("http://198.18.0.100/bytes/6000000");
        final double rate = download[0] / download[1];
        System.out.printf("l7 listener peak %d Mbit/s: %.0f B in %.2f s = %.3f MB/s (%.1f %% of the peak), loadavg %s%n",
            PEAK_MBPS, download[0], download[1], rate / 1e6, 100 * rate / PEAK_BYTES_PER_SECOND, loadAverage());
        assertThat(download[0]).isEqualTo(6_000_000);
        assertThat(download[1]).as("seconds").isGreaterThanOrEqualTo(5);
        assertThat(rate / PEAK_BYTES_PER_SECOND).as("share of the listener's peak").isBetween(0.70, 1.05);
    }

    @Test
    void shouldHoldTwoListenersOfALoadBalancerTogetherToItsPeak() throws Exception
    {
        // 3 MB each through two listeners at once: 6 MB at the load balancer's 1 MB/s
        final long start = System.nanoTime();
        final double[] first;
        final double[] second;
        // two threads of their own: the common pool has one on a 2-core machine and would run them one after the other
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try
        {
            final Future<double[]> a = pool.submit(() -> download("http://198.18.0.101/bytes/3000000"));
            final Future<double[]> b = pool.submit(() -> download("http://198.18.0.101:81/bytes/3000000"));
            first = a.get(60, TimeUnit.SECONDS);
            second = b.get(60, TimeUnit.SECONDS);
        }
        finally
        {
            pool.shutdownNow();
        }
        final double seconds = (System.nanoTime() - start) / 1e9;
        // what both moved over the time the slower one took (curl's own clocks: process start-up excluded)
        final double rate = (first[0] + second[0]) / Math.max(first[1], second[1]);
        System.out.printf("l7 load balancer peak %d Mbit/s, two listeners: %.0f B + %.0f B in %.2f s / %.2f s = %.3f MB/s "
            + "(%.1f %% of the peak; wall %.2f s), loadavg %s%n", PEAK_MBPS, first[0], second[0], first[1], second[1], rate / 1e6,
            100 * rate / PEAK_BYTES_PER_SECOND, seconds, loadAverage());
        assertThat(first[0]).isEqualTo(3_000_000);
        assertThat(second[0]).isEqualTo(3_000_000);
        assertThat(Math.max(first[1], second[1])).as("seconds").isGreaterThanOrEqualTo(5);
        assertThat(rate / PEAK_BYTES_PER_SECOND).as("share of the load balancer's peak").isBetween(0.70, 1.05);
        // fair enough that neither listener starves the other: each finished within 30 % of the other
        assertThat(Math.min(first[1], second[1]) / Math.max(first[1], second[1])).isGreaterThan(0.7);
    }

    /** Bytes and seconds of one download, as curl measured them. */
    private double[] download(final String url) throws Exception
    {
        final String out = curl("-s", "-o", "/dev/null", "--max-time", "40", "-w", "%{http_code} %{size_download} %{time_total}", url)
            .strip();
        final String[] parts = out.split(" ");
        assertThat(parts[0]).as(out).isEqualTo("200");
        return new double[] {Double.parseDouble(parts[1]), Double.parseDouble(parts[2])};
    }

    private String curl(final String... args) throws Exception
    {
        final String[] command = new String[args.length + 1];
        command[0] = "curl";
        System.arraycopy(args, 0, command, 1, args.length);
        return fixture.inNetns(command).output();
    }

    private static String loadAverage()
    {
        try
        {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        }
        catch (final java.io.IOException ex)
        {
            return "?";
        }
    }

    private interface Check
    {
        boolean ok() throws Exception;
    }

    private static void await(final Check check, final int seconds) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!check.ok())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within " + seconds + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }
}
