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
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real node in the testbed's lb1 with both of lb1's links as data interfaces — the uplink towards the router and
 * the clients, and the backend segment — FullNAT from the client namespace, through the router, to the backend
 * namespaces' servers and back: HTTP bytes, UDP, IPv6, wrr shares, ACL, unsolicited backend traffic and idle expiry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeL4TestbedTest
{
    private static final int WRR_CONNECTIONS = 10_000;

    private Testbed testbed;
    private Process node;
    private Path dir;
    private Path stateDir;
    private Path log;

    @BeforeAll
    void start() throws Exception
    {
        testbed = Testbed.builder().prefix("f2" + ProcessHandle.current().pid() % 1_000_000).backends(2).nginx(false).build();
        try
        {
            dir = testbed.runDir();
            stateDir = dir.resolve("state");
            final Path config = dir.resolve("node.yaml");
            Files.writeString(config, NodeTestSupport.lb1Node(testbed, stateDir,
                AddressPlan.lbLocalV4(1) + ", \"" + AddressPlan.lbLocalV6(1) + "\"") + """
                loadBalancers:
                  - name: web
                    vip: %s
                    listeners:
                      - {protocol: tcp, port: 80, serverGroup: app, scheduler: wrr, healthCheck: {enabled: false}}
                      - {protocol: udp, port: 53, serverGroup: echo, healthCheck: {enabled: false}}
                      - {protocol: tcp, port: 81, serverGroup: app, healthCheck: {enabled: false},
                         acl: {mode: deny, cidrs: [198.18.1.0/24]}}
                      - {protocol: tcp, port: 82, serverGroup: tcpecho, idleTimeoutSeconds: 10, healthCheck: {enabled: false}}
                    serverGroups:
                      - {name: app, servers: [{address: %s, port: 8080, weight: 75}, {address: %s, port: 8080, weight: 25}]}
                      - {name: echo, servers: [{address: %s, port: 7}]}
                      - {name: tcpecho, servers: [{address: %s, port: 7}]}
                  - name: web6
                    vip: "%s"
                    listeners: [{protocol: tcp, port: 80, serverGroup: app6, healthCheck: {enabled: false}}]
                    serverGroups: [{name: app6, servers: [{address: "%s", port: 8080}]}]
                """.formatted(AddressPlan.VIP_V4, AddressPlan.backendV4(1), AddressPlan.backendV4(2), AddressPlan.backendV4(1),
                AddressPlan.backendV4(1), AddressPlan.VIP_V6, AddressPlan.backendV6(1)));
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
    void shouldCarryHttpFromTheClientThroughTheRouterToABackendAndBack() throws Exception
    {
        final String echo = curl("--max-time", "10", "http://" + AddressPlan.VIP_V4 + "/echo");
        assertThat(echo).as(this::diagnostics).startsWith("GET /echo HTTP/1.1").contains("X-Remote-Address: " + AddressPlan.lbLocalV4(1));
        final String big = curl("--max-time", "8", "-o", "/dev/null", "-w", "%{size_download}",
            "http://" + AddressPlan.VIP_V4 + "/bytes/1000000");
        assertThat(big).as(this::diagnostics).isEqualTo("1000000");
    }

    @Test
    void shouldCarryHttpOverIpv6() throws Exception
    {
        final String echo = curl("--max-time", "10", "http://[" + AddressPlan.VIP_V6 + "]/echo");
        assertThat(echo).as(this::diagnostics).startsWith("GET /echo HTTP/1.1").contains("X-Remote-Address: 2001:2:0:10:0:0:0:201");
    }

    @Test
    void shouldCarryAUdpRequestAndItsAnswer() throws Exception
    {
        final String answer = NetNs.call(testbed.ns(Testbed.CLIENT), () ->
        {
            try (DatagramChannel client = DatagramChannel.open())
            {
                return NodeTestSupport.askUdp(client, new InetSocketAddress(AddressPlan.VIP_V4, 53), "hello sluice");
            }
        });
        assertThat(answer).as(this::diagnostics).isEqualTo(AddressPlan.VIP_V4 + ":53 hello sluice");
    }

    @Test
    void shouldShareConnectionsAsTheWeightsSay() throws Exception
    {
        final JsonNode before = stat();
        final int connected = NetNs.call(testbed.ns(Testbed.CLIENT), () ->
        {
            int ok = 0;
            int failed = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int i = 0; i < WRR_CONNECTIONS && failed < 20 && System.nanoTime() < deadline; i++)
            {
                try (Socket socket = new Socket())
                {
                    // An abortive close (RST) ends the session at once and leaves no TIME_WAIT behind.
                    socket.setSoLinger(true, 0);
                    socket.connect(new InetSocketAddress(AddressPlan.VIP_V4, 80), 1000);
                    ok++;
                }
                catch (final IOException ex)
                {
                    failed++;
                }
            }
            return ok;
        });
        assertThat(connected).as(this::diagnostics).isGreaterThanOrEqualTo(WRR_CONNECTIONS * 99 / 100);
        final JsonNode after = stat();
        final String stem = "fastpath.backend.sessions.new.web.tcp.80.";
        final long first = delta(before, after, stem, AddressPlan.backendV4(1));
        final long second = delta(before, after, stem, AddressPlan.backendV4(2));
        assertThat(first + second).as(after.toString()).isGreaterThanOrEqualTo(connected);
        final double share = (double)first / (first + second);
        assertThat(share).as("be1 share of %d new sessions (weights 75:25)", first + second).isBetween(0.70, 0.80);
    }

    @Test
    void shouldRefuseSourcesTheAclDenies() throws Exception
    {
        final long before = stat().path("fastpath.drop.acl").asLong();
        final String out = curl("--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", "http://" + AddressPlan.VIP_V4 + ":81/");
        assertThat(out).isEqualTo("000");
        assertThat(stat().path("fastpath.drop.acl").asLong()).isGreaterThan(before);
    }

    @Test
    void shouldNeverLetABackendOpenAConnectionThroughTheNode() throws Exception
    {
        final long before = stat().path("fastpath.drop.unsolicited").asLong();
        // The backend sees only the node's local address; a connection it opens there, on a SNAT port, matches no
        // session: the fastpath drops it (no answer at all, not even the kernel's RST).
        final String result = NetNs.call(testbed.ns(Testbed.backend(1)), () ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(AddressPlan.lbLocalV4(1), 20000), 1500);
                return "connected";
            }
            catch (final SocketTimeoutException ex)
            {
                return "timed out";
            }
            catch (final IOException ex)
            {
                return ex.toString();
            }
        });
        assertThat(result).isEqualTo("timed out");
        assertThat(stat().path("fastpath.drop.unsolicited").asLong()).isGreaterThan(before);
    }

    @Test
    void shouldExpireIdleSessions() throws Exception
    {
        final String listener = "fastpath.listener.sessions.active.web.tcp.82";
        final long expiredBefore = stat().path("fastpath.sessions.expired").asLong();
        final boolean seenIdle = NetNs.call(testbed.ns(Testbed.CLIENT), () ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(AddressPlan.VIP_V4, 82), 5000);
                // A TCP echo: no server-side idle timeout closes the connection first.
                socket.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                socket.setSoTimeout(5000);
                final byte[] buffer = new byte[512];
                assertThat(socket.getInputStream().read(buffer)).isPositive();
                assertThat(stat().path(listener).asLong()).isEqualTo(1);
                // Idle (no packet either way) for longer than idleTimeoutSeconds: the session goes, the socket stays.
                awaitTrue(() -> stat().path(listener).asLong() == 0, 40);
                return true;
            }
        });
        assertThat(seenIdle).isTrue();
        assertThat(stat().path("fastpath.sessions.expired").asLong()).isGreaterThan(expiredBefore);
    }

    private String curl(final String... args)
    {
        return NodeTestSupport.curl(testbed, args);
    }

    private static long delta(final JsonNode before, final JsonNode after, final String stem, final String address)
    {
        long sum = 0;
        for (final Iterator<Map.Entry<String, JsonNode>> it = after.fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith(stem) && e.getKey().contains(address + ":"))
            {
                sum += e.getValue().asLong() - before.path(e.getKey()).asLong();
            }
        }
        return sum;
    }

    private JsonNode stat() throws IOException
    {
        return NodeTestSupport.stat(stateDir);
    }

    private String diagnostics()
    {
        try
        {
            return "counters: " + stat() + "\nnode log:\n" + readLog() + "\nlb1:" + testbed.exec(Testbed.LB1, "ip", "-s", "link").output()
                + "\nbe1:" + testbed.exec(Testbed.backend(1), "ss", "-tni").output()
                + testbed.exec(Testbed.backend(1), "ip", "-s", "link").output()
                + "\nbe2:" + testbed.exec(Testbed.backend(2), "ss", "-tnai").output()
                + testbed.exec(Testbed.backend(2), "ip", "-s", "link").output() + testbed.exec(Testbed.backend(2), "ip", "neigh").output()
                + testbed.exec(Testbed.backend(2), "ip", "route").output() + testbed.exec(Testbed.backend(2), "ip", "addr").output()
                + "\nlb1 neigh:" + testbed.exec(Testbed.LB1, "ip", "neigh").output()
                + "\nclient:" + testbed.exec(Testbed.CLIENT, "ss", "-tni").output();
        }
        catch (final IOException ex)
        {
            return ex.toString();
        }
    }

    private String readLog()
    {
        return NodeTestSupport.readLog(log);
    }
}
