package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.control.NodeFixture;
import io.sluice.nativeio.NetNs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static io.sluice.control.node.NodeTestSupport.stat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node with two forwarders on a two-queue veth: the peer's flow hash picks the queue a frame arrives on, so about
 * half of the frames reach the forwarder that does not own their flow and are handed to the owner, which may be
 * asleep in poll(2) and is woken through its eventfd doorbell (docs/fastpath.md, session 5).
 */
class NodeTwoForwardersTest
{
    private static final int CONNECTIONS = 40;

    @TempDir
    Path dir;

    private NodeFixture lb;
    private String net;
    private Path stateDir;
    private String lbIf;

    @BeforeEach
    void start() throws Exception
    {
        lb = new NodeFixture("fq-2f", dir);
        net = lb.addPeerNetns("n");
        lbIf = "fq" + ProcessHandle.current().pid() % 100000 + "l";
        final String netIf = "fq" + ProcessHandle.current().pid() % 100000 + "n";
        NodeFixture.run("ip", "-n", lb.netns(), "link", "add", lbIf, "numtxqueues", "2", "numrxqueues", "2", "type", "veth",
            "peer", "name", netIf, "netns", net, "numtxqueues", "2", "numrxqueues", "2");
        NodeFixture.run("ip", "-n", lb.netns(), "addr", "add", "198.18.0.1/24", "dev", lbIf);
        NodeFixture.run("ip", "-n", lb.netns(), "link", "set", lbIf, "up");
        for (final String address : new String[] {"198.18.0.2/24", "198.18.0.3/24"})
        {
            NodeFixture.run("ip", "-n", net, "addr", "add", address, "dev", netIf);
        }
        NodeFixture.run("ip", "-n", net, "link", "set", netIf, "up");
        final Process backend = lb.spawnJavaIn(net, dir.resolve("backend.log"),
            "io.sluice.testbed.servers.BackendMain", "--name", "be1", "--http", "8080");
        awaitTrue(this::backendAnswers, 30);
        assertThat(backend.isAlive()).isTrue();

        stateDir = dir.resolve("state");
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node:
              name: fq2
              stateDir: %s
              profile: shared
              drainTimeoutSeconds: 1
              forwarders: 2
              interfaces: [{name: %s, mode: xdp}]
              localAddresses: [198.18.0.10]
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
                  - {protocol: tcp, port: 80, serverGroup: app, healthCheck: {enabled: false}}
                serverGroups:
                  - {name: app, servers: [{address: 198.18.0.3, port: 8080}]}
            """.formatted(stateDir, lbIf));
        lb.startNode(config);
    }

    /** The backend's health page from the peer namespace; false while its JVM is still starting (curl fails). */
    private boolean backendAnswers() throws Exception
    {
        try
        {
            return NodeFixture.run("ip", "netns", "exec", net, "curl", "-s", "http://198.18.0.3:8080/health").contains("ok");
        }
        catch (final java.io.IOException notYet)
        {
            return false;
        }
    }

    @AfterEach
    void stop() throws Exception
    {
        lb.close();
    }

    @Test
    void shouldCarryEveryConnectionWhicheverQueueItsFramesArriveOn() throws Exception
    {
        final int answered = NetNs.call(net, () ->
        {
            int ok = 0;
            for (int i = 0; i < CONNECTIONS; i++)
            {
                // a fresh source port per connection: a new flow hash, so a new queue draw and a new owner draw
                try (Socket socket = new Socket())
                {
                    socket.bind(new InetSocketAddress("198.18.0.2", 0));
                    socket.connect(new InetSocketAddress("198.18.0.100", 80), 5_000);
                    socket.setSoTimeout(5_000);
                    socket.getOutputStream().write("GET /health HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    try (InputStream in = socket.getInputStream())
                    {
                        if (new String(in.readAllBytes(), StandardCharsets.US_ASCII).contains("ok"))
                        {
                            ok++;
                        }
                    }
                }
            }
            return ok;
        });
        assertThat(answered).as("counters: " + stat(stateDir)).isEqualTo(CONNECTIONS);
        // The forwarders add to the shared counters when they next go idle. Every connection is a new session, also one
        // whose port (bind to port 0) an earlier connection of the loop used: its SYN ends that closing session.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonNode stat = stat(stateDir);
        while ((stat.get("fastpath.handoffs").asLong() == 0 || stat.get("fastpath.handoff.wakeups").asLong() == 0
            || stat.get("fastpath.sessions.new").asLong() < CONNECTIONS) && System.nanoTime() < deadline)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            stat = stat(stateDir);
        }
        assertThat(stat.get("fastpath.handoffs").asLong()).as("frames reached the non-owner and were handed off: " + stat)
            .isPositive();
        assertThat(stat.get("fastpath.handoff.wakeups").asLong()).as("an idle owner was woken by its doorbell: " + stat).isPositive();
        assertThat(stat.get("fastpath.drop.handoff_full").asLong()).isZero();
        assertThat(stat.get("fastpath.sessions.new").asLong()).as("one session per connection: " + stat).isEqualTo(CONNECTIONS);
        // a veth has no n-tuple filters: the node says so and relies on the hand-offs above (ReplySteering)
        assertThat(lb.log()).contains("no n-tuple steering of replies on " + lbIf);
        // native XDP on a veth: the node points at the faster mode for it
        assertThat(lb.log()).contains(lbIf + " is a veth: generic XDP (mode: xdp-generic)");
    }
}
