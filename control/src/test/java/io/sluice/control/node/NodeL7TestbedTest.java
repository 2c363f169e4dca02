package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static io.sluice.control.node.NodeTestSupport.curl;
import static io.sluice.control.node.NodeTestSupport.stat;
import static io.sluice.control.node.NodeTestSupport.sum;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7's proxy through the fastpath hand-off, in the testbed: a node in lb1 with XDP on both interfaces serves an L4
 * listener (redirected to its AF_XDP sockets) and http listeners on the same VIP, which the steering program passes to
 * the kernel where the proxy listens. Real clients in the client namespace (curl, wrk, h2load, slowhttptest, a Python
 * WebSocket client) reach the testbed's backends through the router: X-Forwarded-For is the client namespace's address,
 * host and path rules, the inserted sticky cookie, a redirect, a dead server skipped, every bad-request class answered
 * without a byte reaching a backend, a WebSocket relayed to a real WebSocket server, and a normal client served while
 * slow-header or slow-body clients hold connections.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeL7TestbedTest
{
    private static final String VIP = AddressPlan.VIP_V4;
    private static final int WS_PORT = 8090;

    private Testbed testbed;
    private Process node;
    private Path stateDir;
    private Path log;
    private String be1;
    private String be2;
    private Path webSocketPeer;

    @BeforeAll
    void start() throws Exception
    {
        testbed = Testbed.builder().prefix("l7t" + ProcessHandle.current().pid() % 1_000_000).backends(2).nginx(false).build();
        try
        {
            final Path dir = testbed.runDir();
            stateDir = dir.resolve("state");
            final Path config = dir.resolve("node.yaml");
            final String one = AddressPlan.backendV4(1);
            final String two = AddressPlan.backendV4(2);
            // "all" also names be1's closed port 8081: a dead server, refused at connect and then marked down
            Files.writeString(config, NodeTestSupport.lb1Node(testbed, stateDir, AddressPlan.lbLocalV4(1)) + """
                loadBalancers:
                  - name: web
                    vip: %s
                    listeners:
                      - {protocol: tcp, port: 83, serverGroup: all, healthCheck: {enabled: false}}
                      - protocol: http
                        port: 80
                        serverGroup: all
                        http2: true
                        headerTimeoutSeconds: 2
                        maxHeaderBytes: 4096
                        maxBodyBytes: 1024
                        minBodyRateWindowSeconds: 2
                        stickySession: {type: insert}
                        gzip: true
                        loadBalancerHeaders: true
                        healthCheck:
                          {type: http, path: /health, intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 1, unhealthyThreshold: 1}
                        rules:
                          - {host: static.example.test, serverGroup: one}
                          - {path: /echo/api, serverGroup: two}
                          - {path: /ws/, serverGroup: ws}
                      - {protocol: http, port: 81, redirectTo: {protocol: http, port: 80, code: 308}}
                    serverGroups:
                      - {name: all, servers: [{address: %s, port: 8080}, {address: %s, port: 8080}, {address: %s, port: 8081}]}
                      - {name: one, servers: [{address: %s, port: 8080}]}
                      - {name: two, servers: [{address: %s, port: 8080}]}
                      - {name: ws, servers: [{address: %s, port: %d}]}
                """.formatted(VIP, one, two, one, one, two, two, WS_PORT));
            // a real WebSocket server (Debian's python3-websockets, so Debian's python3, not whatever python3 is on PATH)
            // on be2, up before the node's health checks look at it
            webSocketPeer = dir.resolve("websocket_peer.py");
            try (InputStream in = NodeL7TestbedTest.class.getResourceAsStream("websocket_peer.py"))
            {
                Files.copy(in, webSocketPeer);
            }
            final Path webSocketLog = dir.resolve("websocket-server.log");
            testbed.spawn(Testbed.backend(2), webSocketLog,
                List.of("/usr/bin/python3", webSocketPeer.toString(), "server", two, String.valueOf(WS_PORT), "ws-be2"));
            try
            {
                testbed.awaitTcp(Testbed.backend(2), two, WS_PORT, 10_000);
            }
            catch (final IllegalStateException ex)
            {
                // e.g. python3-websockets missing: its traceback says so
                throw new IllegalStateException(ex.getMessage() + "; WebSocket server log:\n" + Files.readString(webSocketLog), ex);
            }
            log = dir.resolve("node.log");
            node = NodeTestSupport.startLb1(testbed, config, log, 60);
            be1 = backendName(1);
            be2 = backendName(2);
            // unmeasured first: neighbour resolution drops the very first SYNs (TCP retries after 1 s, then 2 s)
            curl(testbed, "--max-time", "10", "--retry", "3", "-o", "/dev/null", "http://" + VIP + "/health");
            curl(testbed, "--max-time", "10", "--retry", "3", "-o", "/dev/null", "http://" + VIP + ":83/health");
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
    void shouldProxyTheHandedOverFlowWithTheClientNamespacesAddressBesideAnL4Listener() throws Exception
    {
        final String echo = curl(testbed, "--max-time", "10", "http://" + VIP + "/echo");
        assertThat(echo).as(echo).containsIgnoringCase("X-Forwarded-For: " + AddressPlan.CLIENT_V4)
            .containsIgnoringCase("X-Real-Ip: " + AddressPlan.CLIENT_V4).containsIgnoringCase("X-Forwarded-Proto: http")
            .containsIgnoringCase("Host: " + VIP);
        assertThat(echo).containsIgnoringCase("X-Sluice-Lb: web").containsIgnoringCase("X-Sluice-Vip: " + VIP);
        // the backend's peer is the node's own address, not the client: a proxied connection
        assertThat(echo).contains("X-Remote-Address: " + AddressPlan.lbSegmentV4(1));

        // the L4 listener on the same VIP still goes through the fastpath (FullNAT: the node's local address as source)
        final String l4 = curl(testbed, "--max-time", "10", "http://" + VIP + ":83/echo");
        assertThat(l4).as(l4).contains("X-Remote-Address: " + AddressPlan.lbLocalV4(1)).doesNotContainIgnoringCase("X-Forwarded-For");

        final JsonNode counters = stat(stateDir);
        assertThat(sum(counters, "l7.requests[web/http:80]")).as("%s", counters).isPositive();
        assertThat(sum(counters, "xdp.steer.redirect_vip.")).as("L4 frames redirected to AF_XDP: %s", counters).isPositive();
    }

    @Test
    void shouldRouteByHostAndPathAndKeepAClientOnItsServerWithTheInsertedCookie() throws Exception
    {
        assertThat(backendsOf("-H", "Host: static.example.test", "http://" + VIP + "/")).containsExactly(be1);
        assertThat(backendsOf("http://" + VIP + "/echo/api/items")).containsExactly(be2);
        // the default group round-robins over the live servers (the dead one is skipped, never answered)
        assertThat(backendsOf("http://" + VIP + "/")).containsExactlyInAnyOrder(be1, be2);

        final Path jar = testbed.runDir().resolve("cookies.txt");
        final String first = curl(testbed, "--max-time", "10", "-c", jar.toString(), "-D", "-", "-o", "/dev/null",
            "http://" + VIP + "/");
        assertThat(first).as(first).containsIgnoringCase("Set-Cookie:");
        final String server = header(first, "X-Backend");
        for (int i = 0; i < 6; i++)
        {
            final String next = curl(testbed, "--max-time", "10", "-b", jar.toString(), "-D", "-", "-o", "/dev/null",
                "http://" + VIP + "/");
            assertThat(header(next, "X-Backend")).as(next).isEqualTo(server);
        }
    }

    @Test
    void shouldGzipForAClientThatAcceptsItOnly()
    {
        final String gzipped = curl(testbed, "--max-time", "10", "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: gzip",
            "http://" + VIP + "/echo");
        assertThat(gzipped).as(gzipped).startsWith("HTTP/1.1 200").containsIgnoringCase("Content-Encoding: gzip");
        final String plain = curl(testbed, "--max-time", "10", "-D", "-", "-o", "/dev/null", "http://" + VIP + "/echo");
        assertThat(plain).as(plain).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("Content-Encoding");
        final String decoded = curl(testbed, "--max-time", "10", "--compressed", "http://" + VIP + "/echo");
        assertThat(decoded).as(decoded).startsWith("GET /echo HTTP/1.1");
    }

    @Test
    void shouldRedirectKeepingHostPathAndQuery()
    {
        final String out = curl(testbed, "--max-time", "10", "-D", "-", "-o", "/dev/null", "-H", "Host: shop.example.test",
            "http://" + VIP + ":81/a/b?c=d");
        assertThat(out).as(out).startsWith("HTTP/1.1 308").containsIgnoringCase("Location: http://shop.example.test/a/b?c=d");
    }

    @Test
    void shouldSkipADeadServerWithoutFailingARequest() throws Exception
    {
        final long errorsBefore = sum(stat(stateDir), "l7.responses.5xx[");
        for (int i = 0; i < 12; i++)
        {
            final String out = curl(testbed, "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "http://" + VIP + "/");
            assertThat(out).isEqualTo("200");
        }
        final JsonNode after = stat(stateDir);
        assertThat(sum(after, "l7.responses.5xx[")).as("%s", after).isEqualTo(errorsBefore);
    }

    @Test
    void shouldAnswerEveryBadRequestClassWithoutAByteReachingABackend() throws Exception
    {
        final long servedBefore = sum(stat(stateDir), "l7.server.requests[");
        final Map<String, String> cases = Map.of(
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400",
            "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", "400",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "400",
            "GARBAGE\r\n\r\n", "400",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "x".repeat(8192) + "\r\n\r\n", "431",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4096\r\n\r\n" + "y".repeat(4096), "413");
        for (final Map.Entry<String, String> c : cases.entrySet())
        {
            final String status = rawStatusLine(c.getKey());
            assertThat(status).as("%s -> %s", c.getKey().lines().findFirst().orElse(""), status).contains(" " + c.getValue() + " ");
        }
        final JsonNode after = stat(stateDir);
        assertThat(sum(after, "l7.server.requests[")).as("requests sent to servers: %s", after).isEqualTo(servedBefore);
        assertThat(sum(after, "l7.drop.conflicting_framing[")).isPositive();
        assertThat(sum(after, "l7.drop.header_too_large[")).isPositive();
        assertThat(sum(after, "l7.drop.body_too_large[")).isPositive();
    }

    @Test
    void shouldServeBoundedWrkAndH2loadRunsWithoutErrors()
    {
        final Commands.Result wrk = testbed.exec(Testbed.CLIENT, "wrk", "-t1", "-c8", "-d2s", "http://" + VIP + "/");
        assertThat(wrk.exitCode()).as(wrk.output()).isZero();
        assertThat(wrk.output()).as(wrk.output()).contains("Requests/sec").doesNotContain("Socket errors")
            .doesNotContain("Non-2xx");
        final Commands.Result h2 = testbed.exec(Testbed.CLIENT, "h2load", "-n", "400", "-c", "4", "-m", "4", "http://" + VIP + "/");
        assertThat(h2.output()).as(h2.output()).contains("400 succeeded, 0 failed, 0 errored").contains("h2c");
    }

    @Test
    void shouldRelayAWebSocketBetweenARealClientAndARealServer() throws Exception
    {
        final long upgradesBefore = sum(stat(stateDir), "l7.upgrades[");
        // 20 text messages and one binary of 70,000 bytes each way (64-bit frame lengths), a ping, the close handshake
        final Commands.Result out = testbed.exec(Testbed.CLIENT, "timeout", "60", "/usr/bin/python3", webSocketPeer.toString(), "client",
            "ws://" + VIP + "/ws/chat?room=1", "20", "70000");
        assertThat(out.exitCode()).as(out.output()).isZero();
        final JsonNode result = new ObjectMapper().readTree(out.output().strip().lines().reduce((a, b) -> b).orElse("{}"));
        final JsonNode hello = result.path("hello");
        assertThat(hello.path("backend").asText()).as("%s", result).isEqualTo("ws-be2");
        assertThat(hello.path("path").asText()).isEqualTo("/ws/chat?room=1");
        assertThat(hello.path("xff").asText()).isEqualTo(AddressPlan.CLIENT_V4);
        assertThat(hello.path("upgrade").asText()).isEqualToIgnoringCase("websocket");
        assertThat(result.path("echoed").asInt()).as("%s", result).isEqualTo(20);
        assertThat(result.path("binary").asBoolean()).as("%s", result).isTrue();
        assertThat(result.path("pong").asBoolean()).as("%s", result).isTrue();
        assertThat(result.path("closeCode").asInt()).as("%s", result).isEqualTo(1000);
        awaitTrue(() -> sum(stat(stateDir), "l7.upgrades[") > upgradesBefore, 5);
    }

    @Test
    void shouldServeANormalClientWhileSlowHeaderClientsHoldConnections() throws Exception
    {
        // 200 connections whose heads grow by a header line a second: the 2 s header timeout ends them (408)
        assertNormalClientServedDuring("slow-header", "l7.drop.client_timeout[", "-H", "-c", "200", "-r", "100", "-i", "1",
            "-x", "8", "-l", "8", "-p", "3", "-u", "http://" + VIP + "/slow");
    }

    @Test
    void shouldServeANormalClientWhileSlowBodyClientsHoldConnections() throws Exception
    {
        // 200 POSTs of a declared 1,000-byte body sent a few bytes a second: the body-rate floor (512 B/s over 2 s
        // windows) ends them (408) while the backends hold their half-forwarded requests
        assertNormalClientServedDuring("slow-body", "l7.drop.slow_body[", "-B", "-c", "200", "-r", "100", "-i", "1", "-x", "8",
            "-s", "1000", "-l", "8", "-p", "3", "-u", "http://" + VIP + "/slow");
    }

    /**
     * Runs slowhttptest from the client namespace with {@code attack} and requires a normal client's requests to be
     * served while its connections are open, and the proxy to end at least 20 of them (counted under {@code dropped}).
     */
    private void assertNormalClientServedDuring(final String name, final String dropped, final String... attack) throws Exception
    {
        final long droppedBefore = sum(stat(stateDir), dropped);
        final Path slowLog = testbed.runDir().resolve(name + ".log");
        final List<String> command = new java.util.ArrayList<>(List.of("ip", "netns", "exec", testbed.ns(Testbed.CLIENT),
            "slowhttptest"));
        command.addAll(List.of(attack));
        final Process slow = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(slowLog.toFile()).start();
        try
        {
            // the attack is under way once the proxy counts its connections
            try
            {
                awaitTrue(() -> sum(stat(stateDir), "l7.connections.active[") >= 20, 10);
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError(name + ": " + Files.readString(slowLog) + "\ncounters: " + stat(stateDir), ex);
            }
            for (int i = 0; i < 10; i++)
            {
                final String out = curl(testbed, "--max-time", "3", "-o", "/dev/null", "-w", "%{http_code}", "http://" + VIP + "/");
                assertThat(out).as("normal request %d during the %s attack", i, name).isEqualTo("200");
            }
            // the proxy ends slow connections (408, counted) while new ones keep coming
            try
            {
                awaitTrue(() -> sum(stat(stateDir), dropped) >= droppedBefore + 20, 10);
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError(name + ": " + Files.readString(slowLog) + "\ncounters: " + stat(stateDir), ex);
            }
            final String out = curl(testbed, "--max-time", "3", "-o", "/dev/null", "-w", "%{http_code}", "http://" + VIP + "/");
            assertThat(out).as("a normal request after seconds of the %s attack", name).isEqualTo("200");
        }
        finally
        {
            slow.destroy();
            if (!slow.waitFor(10, TimeUnit.SECONDS))
            {
                slow.destroyForcibly();
            }
        }
    }

    private String backendName(final int k)
    {
        final String out = testbed.exec(Testbed.LB1, "curl", "-s", "--max-time", "5", "-D", "-", "-o", "/dev/null",
            "http://" + AddressPlan.backendV4(k) + ":8080/health").output();
        return header(out, "X-Backend");
    }

    /** The X-Backend of six requests without cookies. */
    private Set<String> backendsOf(final String... args)
    {
        final Set<String> seen = new HashSet<>();
        for (int i = 0; i < 6; i++)
        {
            final List<String> command = new java.util.ArrayList<>(List.of("--max-time", "10", "-D", "-", "-o", "/dev/null"));
            command.addAll(List.of(args));
            final String out = curl(testbed, command.toArray(new String[0]));
            assertThat(out).as(out).startsWith("HTTP/1.1 200");
            seen.add(header(out, "X-Backend"));
        }
        return seen;
    }

    private static String header(final String head, final String name)
    {
        return head.lines().filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
            .map(l -> l.substring(name.length() + 1).trim()).findFirst().orElse("");
    }

    /** Writes raw bytes to VIP:80 from the client namespace (bash's /dev/tcp) and returns the first response line. */
    private String rawStatusLine(final String request) throws IOException
    {
        final Path file = Files.createTempFile(testbed.runDir(), "req", ".txt");
        Files.writeString(file, request);
        final Commands.Result out = testbed.exec(Testbed.CLIENT, "bash", "-c",
            "exec 3<>/dev/tcp/" + VIP + "/80; cat " + file + " >&3; timeout 5 head -n 1 <&3");
        return out.output().strip();
    }
}
