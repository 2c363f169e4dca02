package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static io.sluice.control.node.NodeTestSupport.readLog;
import static io.sluice.control.node.NodeTestSupport.stat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cluster share of a bandwidth peak with two real node processes, lb1 and lb2, peers of each other over the segment
 * (authenticated heartbeats): while both live, lb1 holds a transfer to half the listener's peak; once lb2 is killed
 * (by PID, no goodbye), lb1 declares it dead within deadAfterMillis + one heartbeat and gives the whole peak.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeClusterBandwidthTest
{
    private static final double PAYLOAD_SHARE = 1448.0 / 1500.0;
    private static final int PEAK_MBPS = 10;
    private static final int HEARTBEAT_MILLIS = 100;
    private static final int DEAD_AFTER_MILLIS = 500;

    private Testbed testbed;
    private Process lb1;
    private Process lb2;
    private Path state1;
    private Path state2;
    private Path log1;
    private Path log2;

    @BeforeAll
    void start() throws Exception
    {
        testbed = Testbed.builder().prefix("bw" + ProcessHandle.current().pid() % 1_000_000).backends(1).nginx(false).build();
        try
        {
            final Path dir = testbed.runDir();
            final Path key = dir.resolve("cluster.key");
            Files.writeString(key, "c2x1aWNlIHRlc3QgY2x1c3RlciBrZXksIDMyIGJ5dGVz\n");
            Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            state1 = dir.resolve("state1");
            state2 = dir.resolve("state2");
            final Path config1 = dir.resolve("lb1.yaml");
            Files.writeString(config1, """
                apiVersion: sluice/v1
                node:
                  name: lb1
                  stateDir: %s
                  profile: shared
                  drainTimeoutSeconds: 1
                  interfaces: [{name: %s, mode: xdp}, {name: %s, mode: xdp}]
                  localAddresses: [%s]
                cluster: {peers: [%s], keyFile: %s, heartbeatMillis: %d, deadAfterMillis: %d}
                loadBalancers:
                  - name: web
                    vip: %s
                    listeners:
                      - {protocol: tcp, port: 83, serverGroup: app, bandwidthMbps: %d, healthCheck: {enabled: false}}
                    serverGroups:
                      - {name: app, servers: [{address: %s, port: 8080}]}
                """.formatted(state1, testbed.iface(Testbed.LB1, Testbed.SEGMENT), testbed.iface(Testbed.LB1, Testbed.ROUTER),
                AddressPlan.lbLocalV4(1), AddressPlan.lbSegmentV4(2), key, HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS, AddressPlan.VIP_V4,
                PEAK_MBPS, AddressPlan.backendV4(1)));
            // lb2 runs only the control side (no data interface): its heartbeats are what lb1 counts.
            final Path config2 = dir.resolve("lb2.yaml");
            Files.writeString(config2, """
                apiVersion: sluice/v1
                node:
                  name: lb2
                  stateDir: %s
                  profile: shared
                  drainTimeoutSeconds: 1
                cluster: {peers: [%s], keyFile: %s, heartbeatMillis: %d, deadAfterMillis: %d}
                loadBalancers: []
                """.formatted(state2, AddressPlan.lbSegmentV4(1), key, HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS));
            log1 = dir.resolve("lb1.log");
            log2 = dir.resolve("lb2.log");
            lb1 = NodeTestSupport.spawnNode(testbed, Testbed.LB1, config1, log1);
            lb2 = NodeTestSupport.spawnNode(testbed, Testbed.LB2, config2, log2);
            awaitTrue(() -> ready(lb1, log1) && ready(lb2, log2) || !lb1.isAlive() || !lb2.isAlive(), 90);
            assertThat(lb1.isAlive() && lb2.isAlive()).as("lb1: %s\nlb2: %s", readLog(log1), readLog(log2)).isTrue();
        }
        catch (final Exception | AssertionError ex)
        {
            stop();
            throw ex;
        }
    }

    @AfterAll
    void stop() throws IOException
    {
        try
        {
            for (final Process p : new Process[] {lb1, lb2})
            {
                if (p != null && p.isAlive())
                {
                    testbed.stop(p, 10_000);
                }
            }
        }
        finally
        {
            testbed.close();
        }
    }

    @Test
    void shouldEnforceHalfThePeakWithTwoLiveNodesAndTheWholeOnceThePeerDies() throws Exception
    {
        awaitTrue(() -> stat(state1).path("cluster.live_nodes").asLong() == 2, 20);
        assertThat(stat(state2).path("cluster.live_nodes").asLong()).isEqualTo(2);
        assertTransferInBand(PEAK_MBPS / 2.0);

        final long pid = lb2.pid();
        // SIGKILL by PID: a crashed node says no goodbye.
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly)).contains(true);
        awaitTrue(() -> stat(state1).path("cluster.live_nodes").asLong() == 1, 20);
        final JsonNode after = stat(state1);
        assertThat(after.path("cluster.peer_deaths").asLong()).isEqualTo(1);
        assertThat(after.path("cluster.death_detection_ms").asLong()).as("silence before lb1 declared lb2 dead")
            .isBetween((long)DEAD_AFTER_MILLIS, (long)DEAD_AFTER_MILLIS + HEARTBEAT_MILLIS);
        assertThat(after.path("cluster.drop.bad_mac").asLong()).isZero();
        assertTransferInBand(PEAK_MBPS);
    }

    private void assertTransferInBand(final double mbps) throws Exception
    {
        final double peak = mbps * 1e6 / 8;
        // About 6 s of the peak in payload.
        final long size = (long)(peak * PAYLOAD_SHARE * 6);
        final String bytesOut = "fastpath.listener.bytes_out.web.tcp.83";
        // Unmeasured first: neighbour resolution drops the very first SYNs (TCP retries after 1 s, then 2 s).
        testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", "10", "--retry", "3", "-o", "/dev/null",
            "http://" + AddressPlan.VIP_V4 + ":83/bytes/1000");
        final long outBefore = stat(state1).path(bytesOut).asLong();
        // One keep-alive connection, the body in pieces of at most 4 MB: the testbed's backend (-Xmx64m) stalls on
        // bodies much larger than that once it has served one.
        final int pieces = (int)((size + 3_999_999) / 4_000_000);
        final long piece = size / pieces;
        final List<String> command = new java.util.ArrayList<>(List.of("curl", "-s", "--max-time", "25", "-w",
            "%{size_download} %{time_total}\\n"));
        for (int i = 0; i < pieces; i++)
        {
            command.addAll(List.of("-o", "/dev/null", "http://" + AddressPlan.VIP_V4 + ":83/bytes/" + piece));
        }
        final String result = testbed.exec(Testbed.CLIENT, command.toArray(new String[0])).output();
        long received = 0;
        double seconds = 0;
        for (final String line : result.trim().split("\\n"))
        {
            final String[] parts = line.trim().split(" ");
            received += Long.parseLong(parts[0]);
            seconds += Double.parseDouble(parts[1]);
        }
        final long expected = piece * pieces;
        assertThat(received).as("%s\nnode log: %s\nbackend: %s", result, readLog(log1),
            testbed.exec(Testbed.backend(1), "ss", "-tnai").output()).isEqualTo(expected);
        final JsonNode after = stat(state1);
        final double ipRate = (after.path(bytesOut).asLong() - outBefore) / seconds;
        final String report = "%d B in %.2f s: payload %.0f B/s, IP %.0f B/s, peak %.0f B/s, live nodes %d".formatted(expected, seconds,
            expected / seconds, ipRate, peak, after.path("cluster.live_nodes").asLong());
        System.getLogger(NodeClusterBandwidthTest.class.getName()).log(System.Logger.Level.INFO, report);
        assertThat(ipRate).as(report).isLessThanOrEqualTo(1.05 * peak);
        assertThat(expected / seconds).as(report).isGreaterThanOrEqualTo(0.70 * peak);
    }

    private static boolean ready(final Process node, final Path log) throws IOException
    {
        return node.isAlive() && Files.exists(log) && Files.readString(log).contains("ready");
    }
}
