package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.control.ControlCounter;
import io.sluice.control.NodeFixture;
import io.sluice.control.cli.SluiceCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs {@code sluice node} as a real child process inside a network namespace of its own: it must come up, add the
 * addresses it serves (leaving alone one that was already there), show live counters to another process, and on
 * SIGTERM drain, remove what it added and exit 0.
 */
class NodeProcessTest
{
    @TempDir
    Path dir;

    private NodeFixture fixture;

    @BeforeEach
    void createNamespace() throws Exception
    {
        fixture = new NodeFixture("sl-nt", dir);
    }

    @AfterEach
    void removeNamespace() throws Exception
    {
        fixture.close();
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
              - {name: web, vip: 198.18.0.100, listeners: [{protocol: http, port: 8080, serverGroup: app,
                 healthCheck: {enabled: false}}], serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]}
              - {name: kept, vip: 198.18.0.101}
            """.formatted(stateDir));
        // Already present: the node must tolerate it and must not remove it.
        NodeFixture.run("ip", "-n", fixture.netns(), "addr", "add", "198.18.0.101/32", "dev", "lo");

        fixture.startNode(config);

        assertThat(addresses()).contains("198.18.0.100", "198.18.0.101", "2001:2:0:2::10");
        final JsonNode stat = new ObjectMapper().readTree(stat(stateDir));
        assertThat(stat.get("node.state").asLong()).isEqualTo(ControlCounter.STATE_READY);
        assertThat(stat.get("node.addresses_added").asLong()).isEqualTo(2);

        assertThat(fixture.stopNode()).as("exit code; log:\n" + fixture.log()).isZero();
        assertThat(fixture.log()).contains("draining", "stopped");
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
        return NodeFixture.run("ip", "-n", fixture.netns(), "addr", "show");
    }
}
