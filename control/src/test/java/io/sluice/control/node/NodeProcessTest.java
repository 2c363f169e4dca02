package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.control.cli.SluiceCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs {@code sluice node} as a real child process inside a network namespace of its own: it must come up, add the
 * addresses it serves (leaving alone one that was already there), show live counters to another process, and on
 * SIGTERM drain, remove what it added and exit 0.
 */
class NodeProcessTest
{
    private final String netns = "sl-nt" + ProcessHandle.current().pid();
    private Process node;

    @TempDir
    Path dir;

    @BeforeEach
    void createNamespace() throws Exception
    {
        run("ip", "netns", "add", netns);
        run("ip", "-n", netns, "link", "set", "lo", "up");
    }

    @AfterEach
    void removeNamespace() throws Exception
    {
        if (node != null && node.isAlive())
        {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        run("ip", "netns", "del", netns);
    }

    @Test
    void shouldStartAddAddressesShowCountersAndExitZeroOnSigterm() throws Exception
    {
        final Path stateDir = dir.resolve("state");
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node: {name: nt1, stateDir: %s, profile: shared, drainTimeoutSeconds: 2, localAddresses: ["2001:2:0:2::10"]}
            loadBalancers:
              - {name: web, vip: 198.18.0.100, listeners: [{protocol: http, port: 8080, serverGroup: app}],
                 serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]}
              - {name: kept, vip: 198.18.0.101}
            """.formatted(stateDir));
        // Already present: the node must tolerate it and must not remove it.
        run("ip", "-n", netns, "addr", "add", "198.18.0.101/32", "dev", "lo");

        final Path log = dir.resolve("node.log");
        node = startNode(config, log);
        awaitLine(log, "ready");

        assertThat(addresses()).contains("198.18.0.100", "198.18.0.101", "2001:2:0:2::10");
        final JsonNode stat = new ObjectMapper().readTree(stat(stateDir));
        assertThat(stat.get("node.state").asLong()).isEqualTo(NodeCounters.STATE_READY);
        assertThat(stat.get("node.addresses_added").asLong()).isEqualTo(2);

        node.destroy();   // SIGTERM
        assertThat(node.waitFor(30, TimeUnit.SECONDS)).as("node exits after SIGTERM").isTrue();
        assertThat(node.exitValue()).as("exit code; log:\n" + Files.readString(log)).isZero();
        assertThat(Files.readString(log)).contains("draining", "stopped");
        assertThat(addresses()).contains("198.18.0.101").doesNotContain("198.18.0.100", "2001:2:0:2::10");
    }

    @Test
    void shouldExitOneWithEveryErrorOnABadConfig() throws Exception
    {
        final Path config = dir.resolve("bad.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node: {name: nt1, stateDir: %s, forwarders: 65}
            loadBalancers: [{name: web, vip: 198.18.0.100, listeners: [{protocol: tcp, port: 70000, serverGroup: app}]}]
            """.formatted(dir.resolve("state")));
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        final int exit;
        try
        {
            exit = SluiceCommand.commandLine().execute("node", "--config", config.toString());
        }
        finally
        {
            System.setErr(saved);
        }
        assertThat(exit).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8))
            .contains("node.forwarders: 65 is not in 1..64")
            .contains("loadBalancers[0].listeners[0].port: 70000 is not in 1..65535")
            .contains("nothing applied");
        assertThat(dir.resolve("state")).doesNotExist();
    }

    private Process startNode(final Path config, final Path log) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns,
            ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(List.of(System.getProperty("sluice.jvm.flags", "--enable-native-access=ALL-UNNAMED").split(" ")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.sluice.control.cli.Main",
            "node", "--config", config.toString()));
        // Never the inherited stdout: Surefire reads it as its own channel.
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private void awaitLine(final Path log, final String text) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline)
        {
            if (Files.exists(log) && Files.readString(log).contains(text))
            {
                return;
            }
            if (!node.isAlive())
            {
                throw new AssertionError("node exited with " + node.exitValue() + ":\n" + Files.readString(log));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        throw new AssertionError("no '" + text + "' within 60 s:\n" + Files.readString(log));
    }

    private String stat(final Path stateDir)
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

    private String addresses() throws Exception
    {
        return run("ip", "-n", netns, "addr", "show");
    }

    private static String run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(20, TimeUnit.SECONDS) || process.exitValue() != 0)
        {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }
}
