package io.sluice.control.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigDiffTest
{
    private static SluiceConfig config(final String groupExtra)
    {
        return ConfigLoader.parse("""
            apiVersion: sluice/v1
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
                  - {protocol: http, port: 80, serverGroup: app}
                serverGroups:
                  - {name: app, servers: [{address: 198.18.10.2, port: 8443}]%s}
            """.formatted(groupExtra), "test.yaml");
    }

    @Test
    void shouldReportABackendTlsChangeAndNothingForEqualTlsSettings()
    {
        final SluiceConfig plain = config("");
        final SluiceConfig tls = config(", tls: {enabled: true, sni: app.example}");
        final SluiceConfig sameTls = config(", tls: {enabled: true, sni: app.example}");

        assertThat(ConfigDiff.between(plain.loadBalancers(), tls.loadBalancers()))
            .anySatisfy(c -> assertThat(c.toString()).contains("servergroup", "web/app", "http2/tls"));
        assertThat(ConfigDiff.between(tls.loadBalancers(), sameTls.loadBalancers())).isEmpty();
    }
}
