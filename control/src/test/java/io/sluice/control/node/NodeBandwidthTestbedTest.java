package io.sluice.control.node;

import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;


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

    /** About 10 s of the peak in payload. */
    private void assertBulkTransferInBand(final int port, final int mbps, final String bytesOut) throws Exception
    {
        NodeTestSupport.assertTransferInBand(testbed, stateDir, log, port, mbps, 10, bytesOut);
    }
}
