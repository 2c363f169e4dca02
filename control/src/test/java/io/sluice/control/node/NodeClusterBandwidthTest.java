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

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static io.sluice.control.node.NodeTestSupport.isReady;
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
            Files.writeString(config1, NodeTestSupport.lb1Node(testbed, state1, AddressPlan.lbLocalV4(1)) + """
                cluster: {peers: [%s], keyFile: %s, heartbeatMillis: %d, deadAfterMillis: %d}
                loadBalancers:
                  - name: web
                    vip: %s
                    listeners:
                      - {protocol: tcp, port: 83, serverGroup: app, bandwidthMbps: %d, healthCheck: {enabled: false}}
                    serverGroups:
                      - {name: app, servers: [{address: %s, port: 8080}]}
                """.formatted(AddressPlan.lbSegmentV4(2), key, HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS, AddressPlan.VIP_V4,
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
            awaitTrue(() -> isReady(lb1, log1) && isReady(lb2, log2) || !lb1.isAlive() || !lb2.isAlive(), 90);
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

        // Under load a starved heartbeat thread may have had lb2 declared dead (and live again) already: count the kill's.
        final long deathsBefore = stat(state1).path("cluster.peer_deaths").asLong();
        final long pid = lb2.pid();
        // SIGKILL by PID: a crashed node says no goodbye.
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly)).contains(true);
        awaitTrue(() -> stat(state1).path("cluster.live_nodes").asLong() == 1, 20);
        final JsonNode after = stat(state1);
        assertThat(after.path("cluster.peer_deaths").asLong()).isEqualTo(deathsBefore + 1);
        assertThat(after.path("cluster.death_detection_ms").asLong()).as("silence before lb1 declared lb2 dead")
            .isBetween((long)DEAD_AFTER_MILLIS, (long)DEAD_AFTER_MILLIS + HEARTBEAT_MILLIS);
        assertThat(after.path("cluster.drop.bad_mac").asLong()).isZero();
        assertTransferInBand(PEAK_MBPS);
    }

    /** About 6 s of the peak in payload, through lb1. */
    private void assertTransferInBand(final double mbps) throws Exception
    {
        NodeTestSupport.assertTransferInBand(testbed, state1, log1, 83, mbps, 6, "fastpath.listener.bytes_out.web.tcp.83");
    }
}
