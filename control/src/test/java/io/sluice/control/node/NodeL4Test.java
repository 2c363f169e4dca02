package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.control.NodeFixture;
import io.sluice.control.cli.SluiceCommand;
import io.sluice.nativeio.NetNs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole node serving TCP and UDP listeners through its L4 fastpath: XDP steering and AF_XDP on a real veth, FullNAT
 * to a backend in another namespace, real curl and UDP clients. One-armed: clients and backends share the segment.
 */
class NodeL4Test
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private NodeFixture lb;
    private String net;
    private Path stateDir;

    @BeforeEach
    void start() throws Exception
    {
        lb = new NodeFixture("sl-l4", dir);
        net = lb.addPeerNetns("n");
        final String lbIf = "l4" + ProcessHandle.current().pid() % 100000 + "l";
        final String netIf = "l4" + ProcessHandle.current().pid() % 100000 + "n";
        NodeFixture.run("ip", "-n", lb.netns(), "link", "add", lbIf, "type", "veth", "peer", "name", netIf, "netns", net);
        NodeFixture.run("ip", "-n", lb.netns(), "addr", "add", "198.18.0.1/24", "dev", lbIf);
        NodeFixture.run("ip", "-n", lb.netns(), "addr", "add", "2001:2::1/64", "dev", lbIf, "nodad");
        NodeFixture.run("ip", "-n", lb.netns(), "link", "set", lbIf, "up");
        for (final String address : new String[] {"198.18.0.2/24", "198.18.0.3/24"})
        {
            NodeFixture.run("ip", "-n", net, "addr", "add", address, "dev", netIf);
        }
        for (final String address : new String[] {"2001:2::2/64", "2001:2::3/64"})
        {
            NodeFixture.run("ip", "-n", net, "addr", "add", address, "dev", netIf, "nodad");
        }
        NodeFixture.run("ip", "-n", net, "link", "set", netIf, "up");
        // The backend must answer from the address sluice sent to (198.18.0.3): a wildcard-bound UDP server answers
        // from the route's preferred source, the namespace's primary address 198.18.0.2, which matches no session
        // and is dropped as unsolicited. TCP is immune (an accepted socket keeps its local address).
        NodeFixture.run("ip", "-n", net, "route", "add", "198.18.0.10/32", "dev", netIf, "src", "198.18.0.3");
        NodeFixture.run("ip", "-n", net, "-6", "route", "add", "2001:2::10/128", "dev", netIf, "src", "2001:2::3");

        final Process backend = lb.spawnJavaIn(net, dir.resolve("backend.log"),
            "io.sluice.testbed.servers.BackendMain", "--name", "be1", "--http", "8080", "--udp-echo", "7");
        awaitTrue(() -> NodeFixture.run("ip", "netns", "exec", net, "curl", "-s", "http://198.18.0.3:8080/health").contains("ok"), 30);
        assertThat(backend.isAlive()).isTrue();

        stateDir = dir.resolve("state");
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node:
              name: l4n
              stateDir: %s
              profile: shared
              drainTimeoutSeconds: 1
              interfaces: [{name: %s, mode: xdp}]
              localAddresses: [198.18.0.10, "2001:2::10"]
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
                  - {protocol: tcp, port: 80, serverGroup: app, healthCheck: {intervalSeconds: 1}}
                  - {protocol: udp, port: 53, serverGroup: echo, healthCheck: {enabled: false}}
                serverGroups:
                  - {name: app, servers: [{address: 198.18.0.3, port: 8080}]}
                  - {name: echo, servers: [{address: 198.18.0.3, port: 7}]}
              - name: web6
                vip: "2001:2::100"
                listeners: [{protocol: tcp, port: 80, serverGroup: app6, healthCheck: {enabled: false}}]
                serverGroups: [{name: app6, servers: [{address: "2001:2::3", port: 8080}]}]
            """.formatted(stateDir, lbIf));
        lb.startNode(config);
    }

    @AfterEach
    void stop() throws Exception
    {
        lb.close();
    }

    @Test
    void shouldCarryHttpOverTcpThroughFullNatToTheBackend() throws Exception
    {
        final String echo = NodeFixture.run("ip", "netns", "exec", net, "curl", "-s", "--max-time", "10", "--interface", "198.18.0.2",
            "http://198.18.0.100/echo");
        assertThat(echo).startsWith("GET /echo HTTP/1.1").contains("X-Remote-Address: 198.18.0.10");
        final String big = NodeFixture.run("ip", "netns", "exec", net, "curl", "-s", "--max-time", "20", "--interface", "198.18.0.2",
            "-o", "/dev/null", "-w", "%{size_download}", "http://198.18.0.100/bytes/1000000");
        assertThat(big).isEqualTo("1000000");

        final String echo6 = NodeFixture.run("ip", "netns", "exec", net, "curl", "-s", "--max-time", "10", "--interface", "2001:2::2",
            "http://[2001:2::100]/echo");
        assertThat(echo6).contains("X-Remote-Address: 2001:2:0:0:0:0:0:10");

        final JsonNode stat = JSON.readTree(stat());
        assertThat(stat.get("fastpath.sessions.new").asLong()).isGreaterThanOrEqualTo(3);
        // The steering program's counts reach the counters file too (copied every second).
        awaitTrue(() ->
        {
            final java.util.Iterator<java.util.Map.Entry<String, JsonNode>> fields = JSON.readTree(stat()).fields();
            while (fields.hasNext())
            {
                final java.util.Map.Entry<String, JsonNode> field = fields.next();
                if (field.getKey().startsWith("xdp.steer.redirect_vip.") && field.getValue().asLong() > 0)
                {
                    return true;
                }
            }
            return false;
        }, 10);
    }

    @Test
    void shouldCarryAUdpRequestAndItsAnswer() throws Exception
    {
        final String answer = NetNs.call(net, () ->
        {
            try (DatagramChannel client = DatagramChannel.open())
            {
                client.bind(new InetSocketAddress("198.18.0.2", 0));
                return NodeTestSupport.askUdp(client, new InetSocketAddress("198.18.0.100", 53), "hello sluice");
            }
        });
        assertThat(answer).as("counters: " + stat()).isEqualTo("198.18.0.100:53 hello sluice");
    }

    private String stat()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final PrintStream saved = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try
        {
            assertThat(SluiceCommand.commandLine().execute("stat", "--dir", stateDir.toString(), "--json")).isZero();
        }
        finally
        {
            System.setOut(saved);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** A condition that may throw. */
    private interface Check
    {
        boolean test() throws Exception;
    }

    private static void awaitTrue(final Check condition, final int seconds) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true)
        {
            try
            {
                if (condition.test())
                {
                    return;
                }
            }
            catch (final java.io.IOException ignored)
            {
                // not yet
            }
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within " + seconds + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }
}
