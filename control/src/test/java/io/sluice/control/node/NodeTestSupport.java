package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.control.cli.SluiceCommand;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Helpers the node tests share: each of them used to carry its own copy of these (reading the counters, waiting on a
 * condition, reading a node's log, starting and stopping a node in the testbed, curl in the client namespace), and the
 * copies had begun to drift (one lock per class for {@code System.out}). One copy keeps them the same.
 */
final class NodeTestSupport
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private NodeTestSupport()
    {
    }

    /** A condition that may throw. */
    interface Check
    {
        boolean test() throws Exception;
    }

    /** Waits (parked, 100 ms between tries) until the condition holds; an AssertionError after {@code seconds}. */
    static void awaitTrue(final Check condition, final int seconds) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.test())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within " + seconds + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    /**
     * The node's counters as {@code sluice stat --dir stateDir --json} prints them. The command prints to System.out,
     * so it is swapped for a buffer under one lock for all the node tests: two readers at once would steal each
     * other's output (and a test's own printing would land in the buffer).
     */
    static JsonNode stat(final Path stateDir) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final PrintStream saved = System.out;
        synchronized (NodeTestSupport.class)
        {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try
            {
                assertThat(SluiceCommand.commandLine().execute("stat", "--dir", stateDir.toString(), "--json")).isZero();
            }
            finally
            {
                System.setOut(saved);
            }
        }
        return JSON.readTree(out.toString(StandardCharsets.UTF_8));
    }

    /** The sum of every counter whose name starts with {@code prefix} (a counter per listener, interface or server). */
    static long sum(final JsonNode counters, final String prefix)
    {
        long total = 0;
        for (final var it = counters.fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().startsWith(prefix))
            {
                total += field.getValue().asLong();
            }
        }
        return total;
    }

    /** A log file's text for a failure message: empty if there is none yet, the exception's text if it cannot be read. */
    static String readLog(final Path log)
    {
        try
        {
            return log != null && Files.exists(log) ? Files.readString(log) : "";
        }
        catch (final IOException ex)
        {
            return ex.toString();
        }
    }

    /** Starts {@code sluice node --config config} in the testbed node's namespace, its output to {@code log}. */
    static Process spawnNode(final Testbed testbed, final String name, final Path config, final Path log)
    {
        return testbed.spawn(name, log, Testbed.javaCommand(List.of("-XX:TieredStopAtLevel=1", "-Xshare:auto"),
            "io.sluice.control.cli.Main", List.of("node", "--config", config.toString())));
    }

    /**
     * The head of a config for a node in lb1 on both of lb1's links, the backend segment first (the node adds its local
     * addresses and VIPs on its first data interface): what follows it (loadBalancers, cluster) is the test's own.
     *
     * @param localAddresses the YAML list's items, e.g. {@code 198.18.2.10, "2001:2:0:2::10"}.
     */
    static String lb1Node(final Testbed testbed, final Path stateDir, final String localAddresses)
    {
        return """
            apiVersion: sluice/v1
            node:
              name: lb1
              stateDir: %s
              profile: shared
              drainTimeoutSeconds: 1
              interfaces: [{name: %s, mode: xdp}, {name: %s, mode: xdp}]
              localAddresses: [%s]
            """.formatted(stateDir, testbed.iface(Testbed.LB1, Testbed.SEGMENT), testbed.iface(Testbed.LB1, Testbed.ROUTER),
            localAddresses);
    }

    /** {@link #spawnNode} in the testbed's lb1, then waits until its log says it is ready; asserts it is still alive. */
    static Process startLb1(final Testbed testbed, final Path config, final Path log, final int seconds) throws Exception
    {
        final Process node = spawnNode(testbed, Testbed.LB1, config, log);
        try
        {
            awaitTrue(() -> isReady(node, log) || !node.isAlive(), seconds);
            assertThat(node.isAlive()).as("node log: %s", readLog(log)).isTrue();
            return node;
        }
        catch (final Exception | AssertionError ex)
        {
            testbed.stop(node, 10_000);
            throw ex;
        }
    }

    /** The node is alive and its log says it is ready. */
    static boolean isReady(final Process node, final Path log) throws IOException
    {
        return node.isAlive() && Files.exists(log) && Files.readString(log).contains("ready");
    }

    /** Stops the node (if it was started) and then the testbed, the testbed even if stopping the node fails. */
    static void stopNode(final Testbed testbed, final Process node)
    {
        try
        {
            if (node != null)
            {
                testbed.stop(node, 10_000);
            }
        }
        finally
        {
            testbed.close();
        }
    }

    /** {@code curl -s args…} in the client namespace; its output. */
    static String curl(final Testbed testbed, final String... args)
    {
        final List<String> command = new ArrayList<>(List.of("curl", "-s"));
        command.addAll(List.of(args));
        return testbed.exec(Testbed.CLIENT, command.toArray(new String[0])).output();
    }

    /** TCP payload share of a full-size IPv4 frame's IP bytes (1448 of 1500 with timestamps). */
    static final double PAYLOAD_SHARE = 1448.0 / 1500.0;

    /**
     * Downloads about {@code seconds} of {@code mbps} in payload through VIP:port from the client (one curl after an
     * unmeasured warm-up request) and asserts the node held it in band: the IP rate the node counted in
     * {@code bytesOutLabel} at most 105 % of the peak, the payload rate at least 70 % of it.
     */
    static void assertTransferInBand(final Testbed testbed, final Path stateDir, final Path log, final int port, final double mbps,
        final int seconds, final String bytesOutLabel) throws IOException
    {
        final double peak = mbps * 1e6 / 8;
        final long size = (long)(peak * PAYLOAD_SHARE * seconds);
        final String url = "http://" + AddressPlan.VIP_V4 + ":" + port + "/bytes/";
        // Unmeasured first: neighbour resolution drops the very first SYNs (TCP retries after 1 s, then 2 s).
        testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", "10", "--retry", "3", "-o", "/dev/null", url + 1000);
        final long outBefore = stat(stateDir).path(bytesOutLabel).asLong();
        final String result = testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", Integer.toString(4 * seconds + 10),
            "-w", "%{size_download} %{time_total}", "-o", "/dev/null", url + size).output().trim();
        final String[] parts = result.split(" ");
        assertThat(Long.parseLong(parts[0])).as("%s\nnode log: %s\nbackend: %s", result, readLog(log),
            testbed.exec(Testbed.backend(1), "ss", "-tnai").output()).isEqualTo(size);
        final double took = Double.parseDouble(parts[1]);
        final JsonNode after = stat(stateDir);
        final double ipRate = (after.path(bytesOutLabel).asLong() - outBefore) / took;
        final String report = "%d B in %.2f s: payload %.0f B/s, IP %.0f B/s, peak %.0f B/s, live nodes %d; counters %s".formatted(
            size, took, size / took, ipRate, peak, after.path("cluster.live_nodes").asLong(1), after);
        System.getLogger(NodeTestSupport.class.getName()).log(System.Logger.Level.INFO, report);
        assertThat(ipRate).as(report).isLessThanOrEqualTo(1.05 * peak);
        assertThat(size / took).as(report).isGreaterThanOrEqualTo(0.70 * peak);
    }

    /**
     * Sends {@code text} from {@code client} (non-blocking) to {@code to} every 300 ms until an answer comes, for at most
     * 10 s. @return "ADDRESS:PORT answer" of the first datagram back, or "no answer".
     */
    static String askUdp(final DatagramChannel client, final InetSocketAddress to, final String text) throws IOException
    {
        client.configureBlocking(false);
        final ByteBuffer in = ByteBuffer.allocate(512);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline)
        {
            client.send(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)), to);
            final long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < until)
            {
                final InetSocketAddress from = (InetSocketAddress)client.receive(in);
                if (from != null)
                {
                    return from.getAddress().getHostAddress() + ":" + from.getPort() + " "
                        + new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
                }
                LockSupport.parkNanos(1_000_000);
            }
        }
        return "no answer";
    }
}
