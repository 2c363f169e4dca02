package io.sluice.control.config;

import org.junit.jupiter.api.Test;

import static io.sluice.control.config.ListenerBodyRateConfigTest.lbWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** {@code gzip} and {@code loadBalancerHeaders}: http/https keys, off by default, rejected whole on L4 listeners. */
class ListenerGzipAndHeadersConfigTest
{
    @Test
    void shouldBeOffByDefaultOnHttpListenersAndTakeTrue() throws Exception
    {
        final SluiceConfig config = ConfigLoader.parse(lbWith("""
            - {protocol: http, port: 80, serverGroup: app}
            - {protocol: http, port: 81, serverGroup: app, gzip: true, loadBalancerHeaders: true}
            - {protocol: tcp, port: 83, serverGroup: app}
            """), "t");
        final var listeners = config.loadBalancers().getFirst().listeners();
        assertThat(listeners.get(0).gzip()).isFalse();
        assertThat(listeners.get(0).loadBalancerHeaders()).isFalse();
        assertThat(listeners.get(1).gzip()).isTrue();
        assertThat(listeners.get(1).loadBalancerHeaders()).isTrue();
        assertThat(listeners.get(2).gzip()).as("an L7 key on an L4 listener").isNull();
        // written back out (API, get -o yaml) it reads the same
        assertThat(ConfigLoader.parse(ConfigLoader.jsonWriter().writeValueAsString(config), "round trip")).isEqualTo(config);
    }

    @Test
    void shouldRejectThemOnTcpListenersNamingTheKeyPath()
    {
        final ConfigException l4 = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(lbWith("""
            - {protocol: tcp, port: 80, serverGroup: app, gzip: true, loadBalancerHeaders: false}
            """), "t"));
        assertThat(l4.errors()).containsExactlyInAnyOrder(
            "loadBalancers[0].listeners[0].gzip: is only for http/https listeners",
            "loadBalancers[0].listeners[0].loadBalancerHeaders: is only for http/https listeners");
    }
}
