package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.control.cli.SluiceCommand;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ICMP through a real node over AF_XDP in the testbed: the router's link to the client gets a 1280-byte MTU, so the
 * backend's 1500-byte segments of a download make the router send "fragmentation needed" to their source, the VIP.
 * Only if the node translates that error to the backend (outer local address → backend, quote rewritten to the
 * backend's own segment) does the backend lower its path MTU and the download finish: a PMTU black hole otherwise.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeFuzzIcmpTest
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private Testbed testbed;
    private Process node;
    private Path stateDir;
    private Path log;

    @BeforeAll
    void start() throws Exception
    {
        testbed = Testbed.builder().prefix("gd" + ProcessHandle.current().pid() % 1_000_000).backends(1).nginx(false).build();
        try
        {
            final Path dir = testbed.runDir();
            stateDir = dir.resolve("state");
            final Path config = dir.resolve("node.yaml");
            Files.writeString(config, """
                apiVersion: sluice/v1
                node:
                  name: lb1
                  stateDir: %s
                  profile: shared
                  drainTimeoutSeconds: 1
                  interfaces: [{name: %s, mode: xdp}, {name: %s, mode: xdp}]
                  localAddresses: [%s]
                loadBalancers:
                  - name: web
                    vip: %s
                    listeners:
                      - {protocol: tcp, port: 80, serverGroup: app, healthCheck: {enabled: false}}
                    serverGroups:
                      - {name: app, servers: [{address: %s, port: 8080}]}
                """.formatted(stateDir, testbed.iface(Testbed.LB1, Testbed.SEGMENT), testbed.iface(Testbed.LB1, Testbed.ROUTER),
                AddressPlan.lbLocalV4(1), AddressPlan.VIP_V4, AddressPlan.backendV4(1)));
            log = dir.resolve("node.log");
            node = testbed.spawn(Testbed.LB1, log, Testbed.javaCommand(List.of("-XX:TieredStopAtLevel=1", "-Xshare:auto"),
                "io.sluice.control.cli.Main", List.of("node", "--config", config.toString())));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(Files.exists(log) && Files.readString(log).contains("ready")) && node.isAlive() && System.nanoTime() < deadline)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
            assertThat(node.isAlive()).as("node log: %s", Files.exists(log) ? Files.readString(log) : "").isTrue();
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

    @Test
    void shouldAnswerPingToTheVipFromTheFastpath() throws Exception
    {
        final long before = stat().path("fastpath.icmp.echo_replies").asLong();
        final var result = testbed.exec(Testbed.CLIENT, "ping", "-c", "3", "-i", "0.2", "-W", "2", AddressPlan.VIP_V4);
        assertThat(result.output()).contains("3 received");
        assertThat(stat().path("fastpath.icmp.echo_replies").asLong()).isGreaterThanOrEqualTo(before + 3);
    }

    @Test
    void shouldCarryFragmentationNeededFromTheClientSideToTheBackend() throws Exception
    {
        final String small = testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w",
            "%{size_download}", "http://" + AddressPlan.VIP_V4 + "/bytes/1000").output();
        assertThat(small).as("plain path first").isEqualTo("1000");
        final long before = stat().path("fastpath.icmp.errors_to_backend").asLong();
        testbed.exec(Testbed.ROUTER, "ip", "link", "set", testbed.iface(Testbed.ROUTER, Testbed.CLIENT), "mtu", "1280");
        try
        {
            final String big = testbed.exec(Testbed.CLIENT, "curl", "-s", "--max-time", "20", "-o", "/dev/null", "-w",
                "%{size_download}", "http://" + AddressPlan.VIP_V4 + "/bytes/2000000").output();
            final JsonNode counters = stat();
            assertThat(big).as("download across a 1280-byte hop; counters %s", counters).isEqualTo("2000000");
            assertThat(counters.path("fastpath.icmp.errors_to_backend").asLong()).isGreaterThan(before);
            assertThat(node.isAlive()).isTrue();
        }
        finally
        {
            testbed.exec(Testbed.ROUTER, "ip", "link", "set", testbed.iface(Testbed.ROUTER, Testbed.CLIENT), "mtu", "1500");
        }
    }

    private JsonNode stat() throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final PrintStream saved = System.out;
        synchronized (NodeFuzzIcmpTest.class)
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
}
