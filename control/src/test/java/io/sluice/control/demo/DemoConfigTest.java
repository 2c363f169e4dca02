package io.sluice.control.demo;

import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.Listener;
import io.sluice.control.config.Protocol;
import io.sluice.control.config.SluiceConfig;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DemoConfigTest
{
    @Test
    void shouldShipTheLoadBalancersTheDemoAppliesAsExamplesDemoYaml() throws Exception
    {
        assertThat(Files.readString(Path.of("../examples/demo.yaml"))).isEqualTo(DemoConfig.loadBalancers(2));
    }

    @Test
    void shouldWriteNodeFilesAndLoadBalancersThatLoad()
    {
        final SluiceConfig node = ConfigLoader.parse(DemoConfig.node(2, List.of("sl1-l2r", "sl1-l2s"), "127.0.0.1:9900",
            Path.of("/tmp/state"), Path.of("/tmp/shm")), "demo lb2");
        assertThat(node.node().name()).isEqualTo("lb2");
        assertThat(node.node().interfaces()).hasSize(2);
        assertThat(node.node().localAddresses()).hasSize(1);
        assertThat(node.loadBalancers()).isEmpty();
        final SluiceConfig l7Only = ConfigLoader.parse(DemoConfig.node(1, List.of(), "198.19.1.2:9900", Path.of("/tmp/state"),
            Path.of("/tmp/shm")), "demo lb1");
        assertThat(l7Only.node().interfaces()).isEmpty();

        final String text = DemoConfig.loadBalancers(3);
        final SluiceConfig config = ConfigLoader.parse(text, "demo load balancers");
        assertThat(config.loadBalancers()).hasSize(1);
        assertThat(config.loadBalancers().getFirst().listeners()).extracting(Listener::protocol)
            .containsExactly(Protocol.TCP, Protocol.UDP, Protocol.HTTP, Protocol.HTTPS);
        assertThat(text).contains("198.18.10.4");
    }

    @Test
    void shouldRedrawOneBlockOnATerminalAndPrintPlainLinesOtherwise()
    {
        final Traffic traffic = new Traffic("unused", 1);
        final Traffic.Stream http = traffic.add("http", sequence -> null);
        http.okBefore.set(10);
        http.failedBefore.set(2);
        http.lastError = "ConnectException: Connection refused";

        final ByteArrayOutputStream ansi = new ByteArrayOutputStream();
        final ProgressView terminal = new ProgressView(new PrintStream(ansi, true, StandardCharsets.UTF_8), true);
        terminal.render("both", 1.0, traffic.streams());
        terminal.render("both", 2.0, traffic.streams());
        final String drawn = ansi.toString(StandardCharsets.UTF_8);
        assertThat(drawn).contains("\u001b[2A").contains("\u001b[2K").contains("ok      10").contains("last error: ConnectException");

        final ByteArrayOutputStream plain = new ByteArrayOutputStream();
        final ProgressView lines = new ProgressView(new PrintStream(plain, true, StandardCharsets.UTF_8), false);
        lines.render("both", 1.0, traffic.streams());
        lines.render("both", 2.0, traffic.streams());
        assertThat(plain.toString(StandardCharsets.UTF_8)).doesNotContain("\u001b").contains("[  2.0 s] both");
    }
}
