package io.sluice.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.control.NodeFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The API and the CLI against a real node process in a namespace: curl and `sluice` run as other processes there.
 */
class ApiNodeTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String API = "http://127.0.0.1:9900";

    @TempDir
    Path dir;

    private NodeFixture fixture;
    private Path config;
    private Path tokenFile;

    @BeforeEach
    void startNode() throws Exception
    {
        fixture = new NodeFixture("sl-api", dir);
        final Path stateDir = dir.resolve("state");
        tokenFile = stateDir.resolve("api.token");
        config = dir.resolve("node.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node: {name: api1, stateDir: %s, profile: shared, drainTimeoutSeconds: 1}
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
                  - {protocol: tcp, port: 80, serverGroup: app, healthCheck: {enabled: false}}
                  - {protocol: https, port: 443, serverGroup: app, certificates: [web-cert, spare-cert],
                     healthCheck: {enabled: false}}
                serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]
            """.formatted(stateDir));
        fixture.startNode(config);
    }

    @AfterEach
    void stopNode() throws Exception
    {
        fixture.close();
    }

    @Test
    void shouldCreateChangeAndDeleteEveryKindThroughTheCli() throws Exception
    {
        final Path added = dir.resolve("added.yaml");
        Files.writeString(added, Files.readString(config).replace("node: {", "#").replaceAll("(?m)^#.*$", "") + """
              - name: dns
                vip: "2001:2::100"
                listeners: [{protocol: udp, port: 53, serverGroup: resolvers, scheduler: maglev, healthCheck: {enabled: false}}]
                serverGroups: [{name: resolvers, servers: [{address: "2001:2::53", port: 53}, {address: "2001:2::54", port: 53}]}]
            """);

        final NodeFixture.Result apply = sluice("apply", "-f", added.toString());
        assertThat(apply.exitCode()).as(apply.output()).isZero();
        assertThat(apply.output()).contains("+ loadbalancer dns", "+ listener dns/udp:53", "applied: version 2");
        assertThat(addresses()).contains("2001:2::100");

        assertThat(sluice("diff", "-f", added.toString()).output()).contains("no differences from version 2");
        assertThat(sluice("get", "loadbalancer").output()).contains("dns", "2001:2::100", "udp:53", "web", "tcp:80");
        final JsonNode listener = JSON.readTree(sluice("get", "listener", "dns/udp:53", "-o", "json").output());
        assertThat(listener.get("scheduler").asText()).isEqualTo("maglev");
        assertThat(sluice("get", "server", "-o", "yaml").output()).contains("address: \"2001:2::54\"");

        final JsonNode weight = curl("PUT", "/v1/loadbalancers/dns/servergroups/resolvers/servers/%5B2001:2::54%5D:53", "{\"weight\": 40}");
        assertThat(weight.get("version").asLong()).isEqualTo(3);
        assertThat(sluice("get", "server", "dns/resolvers/[2001:2::54]:53").output()).contains("40");

        assertThat(sluice("delete", "server", "dns/resolvers/[2001:2::54]:53").exitCode()).isZero();
        assertThat(sluice("delete", "listener", "web/tcp:80").exitCode()).isZero();
        assertThat(sluice("delete", "certificate", "spare-cert").exitCode()).isZero();
        assertThat(sluice("get", "certificate").output()).contains("web-cert").doesNotContain("spare-cert");
        final NodeFixture.Result deleteLb = sluice("delete", "loadbalancer", "dns");
        assertThat(deleteLb.output()).contains("- loadbalancer dns", "deleted: version 7");
        assertThat(addresses()).doesNotContain("2001:2::100");

        final NodeFixture.Result missing = sluice("get", "servergroup", "web/nope");
        assertThat(missing.exitCode()).isEqualTo(4);
        assertThat(missing.output()).contains("load balancer web has no server group nope");

        final NodeFixture.Result usage = sluice("usage", "--since", "1h");
        assertThat(usage.exitCode()).as(usage.output()).isZero();
        assertThat(usage.output()).startsWith("loadBalancer,minute,bytesOut,packetsOut,bytesIn,packetsIn,requests");
        assertThat(sluice("usage", "--since", "yesterday").exitCode()).isEqualTo(1);

        final String history = sluice("history").output();
        assertThat(history).contains("VERSION", "seed from config file", "- loadbalancer dns");
        assertThat(history.lines().filter(line -> line.matches("^\\d+ .*"))).hasSize(7);
    }

    @Test
    void shouldRefuseBadTokenInvalidConfigAndStaleVersionsAndApplyNothing() throws Exception
    {
        final NodeFixture.Result badToken = fixture.inNetns("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
            "-H", "Authorization: Bearer wrong-token-wrong-token", API + "/v1/loadbalancers/web");
        assertThat(badToken.output()).isEqualTo("401");

        final JsonNode badPort = curl("PUT", "/v1/loadbalancers/web/listeners/udp:70000", "{\"serverGroup\": \"app\"}");
        assertThat(badPort.get("errors").toString()).contains("loadBalancers[0].listeners[2].port: 70000 is not in 1..65535");

        final JsonNode dangling = curl("PUT", "/v1/config", """
            {"apiVersion": "sluice/v1", "loadBalancers": [{"name": "web", "vip": "198.18.0.100",
             "listeners": [{"protocol": "tcp", "port": 80, "serverGroup": "ghost"}]}]}""");
        assertThat(dangling.get("errors").toString())
            .contains("loadBalancers[0].listeners[0].serverGroup: \\\"ghost\\\" names no server group of load balancer \\\"web\\\"");

        final JsonNode noLoadBalancers = curl("PUT", "/v1/config", "{\"apiVersion\": \"sluice/v1\", \"loadbalancers\": []}");
        assertThat(noLoadBalancers.get("errors").toString()).contains("loadbalancers: unknown key")
            .contains("loadBalancers: is required (send [] to delete every load balancer)");

        final NodeFixture.Result stale = fixture.inNetns("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
            "-H", "Authorization: Bearer " + Files.readString(tokenFile).strip(), "-H", "If-Match: \"9\"",
            API + "/v1/loadbalancers/web");
        assertThat(stale.output()).isEqualTo("412");

        final JsonNode current = curl("GET", "/v1/config", null);
        assertThat(current.get("version").asLong()).isEqualTo(1);
        assertThat(current.get("loadBalancers").get(0).get("listeners")).hasSize(2);
        final String metrics = fixture.inNetns("curl", "-s", API + "/metrics").output();
        assertThat(metrics).contains("sluice_api_auth_failures 1.0").contains("sluice_node_config_version 1.0");
        // The https listener names certificates no key server holds: accepted, but the node says it is not ready and why.
        final NodeFixture.Result healthz = fixture.inNetns("curl", "-s", "-w", "\n%{http_code}", API + "/healthz");
        assertThat(healthz.output()).contains("\"status\" : \"not ready\"", "web/https:443").endsWith("503");
    }

    @Test
    void shouldComeBackWithTheJournalsConfigAfterARestart() throws Exception
    {
        assertThat(curl("DELETE", "/v1/loadbalancers/web/listeners/tcp:80", null).get("version").asLong()).isEqualTo(2);
        assertThat(fixture.stopNode()).isZero();

        fixture.startNode(config);
        final JsonNode restored = curl("GET", "/v1/config", null);
        assertThat(restored.get("version").asLong()).isEqualTo(2);
        assertThat(restored.get("loadBalancers").get(0).get("listeners")).hasSize(1);
        assertThat(fixture.stopNode()).isZero();

        fixture.startNode(config, "--config-wins");
        final JsonNode fileWon = curl("GET", "/v1/config", null);
        assertThat(fileWon.get("version").asLong()).isEqualTo(3);
        assertThat(fileWon.get("loadBalancers").get(0).get("listeners")).hasSize(2);
    }

    /** Every operation of openapi.json exists on the running server and answers with a status the document lists. */
    @Test
    void shouldAnswerEveryOperationOfItsOpenApiDocumentAsDocumented() throws Exception
    {
        final JsonNode document;
        try (InputStream in = ApiServer.class.getResourceAsStream("openapi.json"))
        {
            document = JSON.readTree(in);
        }
        assertThat(JSON.readTree(fixture.inNetns("curl", "-s", API + "/openapi.json").output())).isEqualTo(document);
        final Map<String, String> parameters = Map.of("{lb}", "web", "{listener}", "tcp:80", "{group}", "app",
            "{server}", "198.18.10.2:8080", "{name}", "spare-cert");
        final List<String> checked = new ArrayList<>();
        for (final String method : List.of("get", "post", "put", "delete"))
        {
            final Iterator<Map.Entry<String, JsonNode>> paths = document.get("paths").fields();
            while (paths.hasNext())
            {
                final Map.Entry<String, JsonNode> path = paths.next();
                final JsonNode operation = path.getValue().get(method);
                if (operation == null)
                {
                    continue;
                }
                String url = path.getKey();
                for (final Map.Entry<String, String> parameter : parameters.entrySet())
                {
                    url = url.replace(parameter.getKey(), parameter.getValue());
                }
                final String body = "put".equals(method) ? "{}" : null;
                final String status = status(method.toUpperCase(), url, body);
                assertThat(operation.get("responses").has(status))
                    .as(method.toUpperCase() + " " + url + " answered " + status + ", documented: "
                        + operation.get("responses").fieldNames())
                    .isTrue();
                checked.add(method + " " + path.getKey());
            }
        }
        assertThat(checked).hasSizeGreaterThan(25);
    }

    private NodeFixture.Result sluice(final String... args) throws Exception
    {
        final List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--token-file", tokenFile.toString()));
        return fixture.sluice(all.toArray(String[]::new));
    }

    private JsonNode curl(final String method, final String path, final String body) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("curl", "-s", "-X", method, "-H",
            "Authorization: Bearer " + Files.readString(tokenFile).strip()));
        if (body != null)
        {
            command.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", body));
        }
        command.add(API + path);
        return JSON.readTree(fixture.inNetns(command.toArray(String[]::new)).output());
    }

    private String status(final String method, final String path, final String body) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method));
        if (!path.equals("/healthz") && !path.equals("/metrics") && !path.equals("/openapi.json"))
        {
            command.addAll(List.of("-H", "Authorization: Bearer " + Files.readString(tokenFile).strip()));
        }
        if (body != null)
        {
            command.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", body));
        }
        command.add(API + path);
        return fixture.inNetns(command.toArray(String[]::new)).output();
    }

    private String addresses() throws Exception
    {
        return NodeFixture.run("ip", "-n", fixture.netns(), "addr", "show");
    }
}
