package io.sluice.control.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** {@code minBodyRateBytesPerSecond}: an http/https key with a 512 B/s default, 0 = off, rejected on L4 listeners. */
class ListenerBodyRateConfigTest
{
    /** A config with one load balancer "web" whose listeners are these YAML list items (over server group "app"). */
    static String lbWith(final String listeners)
    {
        return """
            apiVersion: sluice/v1
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
            %s
                serverGroups:
                  - name: app
                    servers: [{address: 198.18.10.2, port: 8080}]
            """.formatted(listeners.indent(6).stripTrailing());
    }

    @Test
    void shouldDefaultTo512OnHttpListenersAndTakeAGivenFloorOrZero() throws Exception
    {
        final SluiceConfig config = ConfigLoader.parse(lbWith("""
            - {protocol: http, port: 80, serverGroup: app}
            - {protocol: http, port: 81, serverGroup: app, minBodyRateBytesPerSecond: 2048}
            - {protocol: http, port: 82, serverGroup: app, minBodyRateBytesPerSecond: 0, minBodyRateWindowSeconds: 30}
            - {protocol: tcp, port: 83, serverGroup: app}
            """), "t");
        final var listeners = config.loadBalancers().getFirst().listeners();
        assertThat(listeners.get(0).minBodyRateBytesPerSecond()).isEqualTo(512);
        assertThat(listeners.get(1).minBodyRateBytesPerSecond()).isEqualTo(2048);
        assertThat(listeners.get(2).minBodyRateBytesPerSecond()).isZero();
        assertThat(listeners.get(0).minBodyRateWindowSeconds()).isEqualTo(10);
        assertThat(listeners.get(2).minBodyRateWindowSeconds()).isEqualTo(30);
        assertThat(listeners.get(3).minBodyRateWindowSeconds()).isNull();
        assertThat(listeners.get(3).minBodyRateBytesPerSecond()).as("an L7 key on an L4 listener").isNull();
        // written back out (API, get -o yaml) it reads the same
        assertThat(ConfigLoader.parse(ConfigLoader.jsonWriter().writeValueAsString(config), "round trip")).isEqualTo(config);
    }

    @Test
    void shouldRejectItOnTcpListenersAndOutOfRange()
    {
        final ConfigException l4 = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(lbWith("""
            - {protocol: tcp, port: 80, serverGroup: app, minBodyRateBytesPerSecond: 100}
            """), "t"));
        assertThat(l4.errors()).containsExactly(
            "loadBalancers[0].listeners[0].minBodyRateBytesPerSecond: is only for http/https listeners");
        final ConfigException range = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(lbWith("""
            - {protocol: http, port: 80, serverGroup: app, minBodyRateBytesPerSecond: -1}
            """), "t"));
        assertThat(range.errors()).singleElement().asString().contains("minBodyRateBytesPerSecond").contains("0..1073741824");
        final ConfigException window = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(lbWith("""
            - {protocol: http, port: 80, serverGroup: app, minBodyRateWindowSeconds: 0}
            - {protocol: tcp, port: 81, serverGroup: app, minBodyRateWindowSeconds: 5}
            """), "t"));
        assertThat(window.errors()).hasSize(2);
        assertThat(window.errors().get(0)).startsWith("loadBalancers[0].listeners[0].minBodyRateWindowSeconds:").contains("1..60");
        assertThat(window.errors().get(1))
            .isEqualTo("loadBalancers[0].listeners[1].minBodyRateWindowSeconds: is only for http/https listeners");
    }
}
