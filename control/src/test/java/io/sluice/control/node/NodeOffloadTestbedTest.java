package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.nativeio.NetNs;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The XDP flow offload on a real node in the testbed's lb1 (`node.offloadSessions`), GRO on at lb1's veth peers so
 * they take redirected frames: HTTP over IPv4 and IPv6 and UDP whose established frames the steering program forwards
 * itself, the metering that still counts them, an established session kept alive by frames only the program saw, and
 * an idle one whose entries go with it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeOffloadTestbedTest
{
    private Testbed testbed;
    private Process node;
    private Path stateDir;
    private Path log;

    @BeforeAll
    void start() throws Exception
    {
        testbed = Testbed.builder().prefix("fo" + ProcessHandle.current().pid() % 1_000_000).backends(1).nginx(false).build();
        try
        {
            testbed.setPeerGro(Testbed.LB1, Testbed.ROUTER, true);
            testbed.setPeerGro(Testbed.LB1, Testbed.SEGMENT, true);
            final Path dir = testbed.runDir();
            stateDir = dir.resolve("state");
            final Path config = dir.resolve("node.yaml");
            Files.writeString(config, NodeTestSupport.lb1Node(testbed, stateDir,
                AddressPlan.lbLocalV4(1) + ", \"" + AddressPlan.lbLocalV6(1) + "\"") + """
                  offloadSessions: 4096
                loadBalancers:
                  - name: web
                    vip: %s
                    listeners:
                      - {protocol: tcp, port: 80, serverGroup: app, healthCheck: {enabled: false}}
                      - {protocol: udp, port: 53, serverGroup: echo, healthCheck: {enabled: false}}
                      - {protocol: tcp, port: 82, serverGroup: tcpecho, idleTimeoutSeconds: 10, healthCheck: {enabled: false}}
                    serverGroups:
                      - {name: app, servers: [{address: %s, port: 8080}]}
                      - {name: echo, servers: [{address: %s, port: 7}]}
                      - {name: tcpecho, servers: [{address: %s, port: 7}]}
                  - name: web6
                    vip: "%s"
                    listeners: [{protocol: tcp, port: 80, serverGroup: app6, healthCheck: {enabled: false}}]
                    serverGroups: [{name: app6, servers: [{address: "%s", port: 8080}]}]
                """.formatted(AddressPlan.VIP_V4, AddressPlan.backendV4(1), AddressPlan.backendV4(1), AddressPlan.backendV4(1),
                AddressPlan.VIP_V6, AddressPlan.backendV6(1)));
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
    void shouldCarryAMegabyteWhoseFramesTheProgramForwardsAndMeterIt() throws Exception
    {
        final JsonNode before = stat();
        final String echo = curl("--max-time", "10", "http://" + AddressPlan.VIP_V4 + "/echo");
        assertThat(echo).as(this::diagnostics).startsWith("GET /echo HTTP/1.1").contains("X-Remote-Address: " + AddressPlan.lbLocalV4(1));
        final String big = curl("--max-time", "8", "-o", "/dev/null", "-w", "%{size_download}",
            "http://" + AddressPlan.VIP_V4 + "/bytes/1000000");
        assertThat(big).as(this::diagnostics).isEqualTo("1000000");
        final JsonNode after = stat();
        assertThat(after.path("fastpath.offload.sessions").asLong() - before.path("fastpath.offload.sessions").asLong())
            .as(this::diagnostics).isEqualTo(2);
        assertThat(after.path("fastpath.offload.full").asLong()).isZero();
        // ~700 frames of the megabyte and their ACKs went through the program (its counters reach the file each second)
        awaitTrue(() -> forwarded(stat()) - forwarded(before) > 600, 10);
        // Metering: the program's bytes reach the listener's outbound counter within the fold's second.
        final String bytesOut = "fastpath.listener.bytes_out.web.tcp.80";
        final long base = before.path(bytesOut).asLong();
        awaitTrue(() -> stat().path(bytesOut).asLong() - base > 1_000_000, 10);
    }

    @Test
    void shouldCarryHttpOverIpv6ThroughTheProgram() throws Exception
    {
        final JsonNode before = stat();
        final String big = curl("--max-time", "8", "-o", "/dev/null", "-w", "%{size_download}",
            "http://[" + AddressPlan.VIP_V6 + "]/bytes/300000");
        assertThat(big).as(this::diagnostics).isEqualTo("300000");
        awaitTrue(() -> forwarded(stat()) - forwarded(before) > 150, 10);
    }

    @Test
    void shouldAnswerUdpWhoseLaterDatagramsTheProgramForwards() throws Exception
    {
        final JsonNode before = stat();
        for (int i = 0; i < 5; i++)
        {
            assertThat(udp("hello " + i)).as(this::diagnostics).isEqualTo(AddressPlan.VIP_V4 + ":53 hello " + i);
        }
        // the first query made the session; its answer and the four exchanges after it went through the program
        awaitTrue(() -> forwarded(stat()) - forwarded(before) >= 9, 10);
    }

    @Test
    void shouldKeepASessionTheProgramCarriesAndEndItsEntriesWhenItIdles() throws Exception
    {
        final String active = "fastpath.listener.sessions.active.web.tcp.82";
        final long noSessionBefore = stat().path("fastpath.drop.no_session").asLong();
        NetNs.call(testbed.ns(Testbed.CLIENT), () ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(AddressPlan.VIP_V4, 82), 5000);
                socket.setSoTimeout(5000);
                final OutputStream out = socket.getOutputStream();
                final InputStream in = socket.getInputStream();
                // 16 s of echoes every 2 s, past the 10 s idle timeout: only the program sees these frames
                final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(16);
                while (System.nanoTime() < until)
                {
                    out.write("ping".getBytes(StandardCharsets.US_ASCII));
                    assertThat(in.read(new byte[64])).isPositive();
                    LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
                }
                assertThat(stat().path(active).asLong()).as(this::diagnostics).isEqualTo(1);
                // Then idle: the session expires and its entries go, so a late segment reaches the forwarder, which
                // has no session for it.
                awaitTrue(() -> stat().path(active).asLong() == 0, 40);
                out.write("late".getBytes(StandardCharsets.US_ASCII));
                awaitTrue(() -> stat().path("fastpath.drop.no_session").asLong() > noSessionBefore, 10);
                return null;
            }
        });
    }

    private String udp(final String text) throws Exception
    {
        return NetNs.call(testbed.ns(Testbed.CLIENT), () ->
        {
            try (DatagramChannel client = DatagramChannel.open())
            {
                client.bind(new InetSocketAddress(40053));
                return NodeTestSupport.askUdp(client, new InetSocketAddress(AddressPlan.VIP_V4, 53), text);
            }
        });
    }

    /** Frames the offload forwarded, over the data interfaces ({@code xdp.steer.offload_forwarded.IFNAME}). */
    private static long forwarded(final JsonNode counters)
    {
        return NodeTestSupport.sum(counters, "xdp.steer.offload_forwarded.");
    }

    private String curl(final String... args)
    {
        return NodeTestSupport.curl(testbed, args);
    }

    private JsonNode stat() throws IOException
    {
        return NodeTestSupport.stat(stateDir);
    }

    private String diagnostics()
    {
        try
        {
            return "counters: " + stat() + "\nnode log:\n" + NodeTestSupport.readLog(log) + "\nlb1:"
                + testbed.exec(Testbed.LB1, "ip", "-s", "link").output() + "\nlb1 neigh:"
                + testbed.exec(Testbed.LB1, "ip", "neigh").output();
        }
        catch (final IOException ex)
        {
            return ex.toString();
        }
    }
}
