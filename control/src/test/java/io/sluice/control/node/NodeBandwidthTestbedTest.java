package io.sluice.control.node;

import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;


/**
 * Issue 6's bandwidth bound through a real node in the testbed: a bulk TCP transfer of about 10 s held at or below
 * +5 % of the peak and at or above 70 % of it, once under a listener's {@code bandwidthMbps} and once under its load
 * balancer's. A correctness bound of the limiter (the rate must sit in the band), not a speed claim: the peaks are far
 * below what the node forwards on this machine.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeBandwidthTestbedTest
{
    /** Payload per 1500-byte IP packet: 1500 - 20 (IPv4) - 32 (TCP with timestamps). */

    private Testbed testbed;
    private Process node;
    private Path stateDir;
    private Path log;

    @BeforeAll
    void start() throws Exception
    {
        testbed = Testbed.builder().prefix("bw" + ProcessHandle.current().pid() % 1_000_000).backends(1).nginx(false).build();
        try
        {
            final Path dir = testbed.runDir();
            stateDir = dir.resolve("state");
            final Path config = dir.resolve("node.yaml");
            Files.writeString(config, NodeTestSupport.lb1Node(testbed, stateDir, AddressPlan.lbLocalV4(1)) + """
                loadBalancers:
                  - name: web
                    vip: %s
                    bandwidthMbps: 12
                    listeners:
                      - {protocol: tcp, port: 83, serverGroup: app, bandwidthMbps: 10, healthCheck: {enabled: false}}
                      - {protocol: tcp, port: 84, serverGroup: app, healthCheck: {enabled: false}}
                      - {protocol: http, port: 85, serverGroup: app, healthCheck: {enabled: false}}
                    serverGroups:
                      - {name: app, servers: [{address: %s, port: 8080}]}
                """.formatted(AddressPlan.VIP_V4, AddressPlan.backendV4(1)));
            log = dir.resolve("node.log");
            node = NodeTestSupport.startLb1(testbed, config, log, 60);
        }
        catch (final Exception | AssertionError ex)
        {
            stop();
            throw ex;
        }
    }

    @AfterAll
    void stop()
    {
        NodeTestSupport.stopNode(testbed, node);
    }

    @Test
    void shouldHoldABulkTransferWithinTheBandOfTheListenersPeak() throws Exception
    {
        assertBulkTransferInBand(83, 10, "fastpath.listener.bytes_out.web.tcp.83");
    }

    @Test
    void shouldHoldABulkTransferWithinTheBandOfTheLoadBalancersPeak() throws Exception
    {
        assertBulkTransferInBand(84, 12, "fastpath.instance.bytes_out.web");
    }

    @Test
    void shouldHoldTheLoadBalancersL4AndL7ListenersTogetherToItsPeak() throws Exception
    {
        // 84 is forwarded by the fastpath (FullNAT), 85 handed over by the steering program to the node's L7 proxy; both
        // belong to "web" (12 Mbit/s): one budget, so two transfers at once share it instead of each taking all of it.
        final double peak = 12 * 1e6 / 8;
        final long size = (long)(peak * NodeTestSupport.PAYLOAD_SHARE * 5);
        for (final int port : new int[] {84, 85})
        {
            // unmeasured first: neighbour resolution drops the very first SYNs (TCP retries after 1 s, then 2 s)
            testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", "10", "--retry", "3", "-o", "/dev/null",
                "http://" + AddressPlan.VIP_V4 + ":" + port + "/bytes/1000");
        }
        final String curl = "curl -s --max-time 50 -o /dev/null -w '%{size_download} %{time_total}\\n' http://" + AddressPlan.VIP_V4;
        final Path l4 = testbed.runDir().resolve("l4.out");
        final Path l7 = testbed.runDir().resolve("l7.out");
        final Commands.Result both = Commands.run(List.of("ip", "netns", "exec", testbed.ns(Testbed.CLIENT), "sh", "-c",
            curl + ":84/bytes/" + size + " > " + l4 + " & " + curl + ":85/bytes/" + size + " > " + l7 + " & wait; cat " + l4 + " " + l7),
            70_000L);
        final String[] lines = both.output().strip().split("\\s*\\n\\s*");
        assertThat(lines).as(both.output() + "\nnode log: " + NodeTestSupport.readLog(log)).hasSize(2);
        double slowest = 0;
        for (final String line : lines)
        {
            final String[] parts = line.trim().split(" ");
            assertThat(Long.parseLong(parts[0])).as(both.output()).isEqualTo(size);
            slowest = Math.max(slowest, Double.parseDouble(parts[1]));
        }
        final double together = 2.0 * size / slowest;
        final String report = "L4 + L7, %d B each: %s -> %.0f B/s of payload together, peak %.0f B/s; counters %s".formatted(size,
            both.output().strip().replace('\n', ','), together, peak, NodeTestSupport.stat(stateDir));
        System.getLogger(NodeBandwidthTestbedTest.class.getName()).log(System.Logger.Level.INFO, report);
        assertThat(together).as(report).isLessThanOrEqualTo(1.05 * peak);
        assertThat(together).as(report).isGreaterThanOrEqualTo(0.70 * peak);
        assertThat(NodeTestSupport.stat(stateDir).path("l7.bandwidth.delayed_bytes[web/http:85]").asLong())
            .as("the proxy held its listener's writes: %s", NodeTestSupport.stat(stateDir)).isPositive();
    }

    /** About 10 s of the peak in payload. */
    private void assertBulkTransferInBand(final int port, final int mbps, final String bytesOut) throws Exception
    {
        NodeTestSupport.assertTransferInBand(testbed, stateDir, log, port, mbps, 10, bytesOut);
    }
}
