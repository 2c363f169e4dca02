package io.sluice.control.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The names a listener has across the node come from the config model, one way for usage, stat and the API. */
class ListenerNameTest
{
    private final LoadBalancer web = ConfigLoader.parse("""
        apiVersion: sluice/v1
        loadBalancers:
          - name: web
            vip: 198.18.0.100
            listeners: [{protocol: tcp, port: 80, serverGroup: g}, {protocol: http, port: 8080, serverGroup: g}]
            serverGroups: [{name: g, servers: [{address: 198.18.10.2, port: 80}]}]
        """, "test").loadBalancers().getFirst();

    @Test
    void shouldNameAListenerByItsLoadBalancerAndKey()
    {
        assertThat(web.listenerName(web.listeners().get(0))).isEqualTo("web/tcp:80");
        assertThat(web.listenerName(web.listeners().get(1))).isEqualTo("web/http:8080");
        assertThat(LoadBalancer.listenerName("web", "http:8080")).isEqualTo(web.listenerName(web.listeners().get(1)));
    }

    @Test
    void shouldNameAFastpathListenerAsADottedSuffixOfItsCounterLabels()
    {
        assertThat(web.fastpathListenerName(web.listeners().get(0))).isEqualTo("web.tcp.80");
    }

    @Test
    void shouldFindAListenerByItsKey()
    {
        assertThat(web.listener("http:8080")).isSameAs(web.listeners().get(1));
        assertThat(web.listener("tcp:8080")).isNull();
    }
}
