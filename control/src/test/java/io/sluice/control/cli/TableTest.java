package io.sluice.control.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TableTest
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldMarkServerGroupsThatSpeakTlsToTheirServers() throws Exception
    {
        final String table = Table.of(ClientCommands.Kind.SERVERGROUP, JSON.readTree("""
            [{"loadBalancer": "web", "name": "app", "http2": false, "tls": {"enabled": true, "verify": true},
              "servers": [{"address": "198.18.10.2", "port": 8443, "weight": 100}]},
             {"loadBalancer": "web", "name": "plain", "http2": true,
              "servers": [{"address": "198.18.10.3", "port": 8080, "weight": 50}]}]
            """));

        assertThat(table).contains("http/1.1+tls").contains("h2").doesNotContain("h2+tls");
    }
}
