package io.sluice.control.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ConfigLoaderTest
{
    private static final String HEADER = "apiVersion: sluice/v1\n";

    /** One load balancer whose first listener is given; groups app and api exist. */
    private static String lbWith(final String listeners)
    {
        return HEADER + """
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
            %s
                serverGroups:
                  - name: app
                    servers: [{address: 198.18.10.2, port: 8080}]
                  - name: api
                    servers: [{address: 198.18.10.3, port: 8080, weight: 50}]
            """.formatted(listeners.indent(6).stripTrailing());
    }

    private static ConfigException rejected(final String yaml)
    {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "test.yaml"));
    }

    @Test
    void shouldLoadEveryKeyOfTheContractExample()
    {
        final SluiceConfig config = ConfigLoader.load(Path.of("../examples/full.yaml"));

        assertThat(config.node().name()).isEqualTo("lb1");
        assertThat(config.node().api().tokenFile()).isEqualTo("/etc/sluice/token");
        assertThat(config.cluster().etcd().prefix()).isEqualTo("/sluice/web");
        final LoadBalancer web = config.loadBalancer("web");
        assertThat(web.bandwidthMbps()).isEqualTo(100);
        assertThat(web.listeners()).extracting(Listener::key).containsExactly("tcp:80", "https:443", "http:8080");
        final Listener https = web.listeners().get(1);
        assertThat(https.tlsPolicy()).isEqualTo(TlsPolicy.TLS_1_2_STRICT_WITH_1_3);
        assertThat(https.rules()).containsExactly(new Listener.Rule("api.example.com", "/v1", "api"));
        assertThat(https.healthCheck().expectedCodes()).containsExactly(ExpectedCode.HTTP_2XX);
        assertThat(web.listeners().get(2).redirectTo()).isEqualTo(new Listener.RedirectTo(Protocol.HTTPS, 443, 301));
    }

    @Test
    void shouldLoadMinimalExampleWithDefaults()
    {
        final SluiceConfig config = ConfigLoader.load(Path.of("../examples/minimal.yaml"));

        assertThat(config.node().forwarders()).isEqualTo(1);
        assertThat(config.node().sessionCapacity()).isEqualTo(1_000_000L);
        assertThat(config.node().api().listen()).isEqualTo("127.0.0.1:9900");
        assertThat(config.node().api().tokenFile()).isEqualTo("/var/lib/sluice/minimal/api.token");
        final Listener http = config.loadBalancers().getFirst().listeners().getFirst();
        assertThat(http.idleTimeoutSeconds()).isEqualTo(15);
        assertThat(http.xForwardedFor()).isTrue();
        assertThat(http.healthCheck().type()).isEqualTo(HealthCheckType.HTTP);
        assertThat(config.loadBalancers().getFirst().serverGroups().getFirst().servers().getFirst().weight()).isEqualTo(100);
    }

    @Test
    void shouldWriteTheAccessLogUnlessTheNodeTurnsItOff()
    {
        final String node = HEADER + "node: {name: n1, accessLog: %s}\n";
        assertThat(ConfigLoader.load(Path.of("../examples/minimal.yaml")).node().accessLog()).isTrue();
        assertThat(ConfigLoader.parse(node.formatted("false"), "t").node().accessLog()).isFalse();
        assertThat(ConfigLoader.parse(node.formatted("true"), "t").node().accessLog()).isTrue();
        assertThat(rejected(node.formatted("\"off\"")).errors())
            .containsExactly("node.accessLog: expected true or false, got a string \"off\"");
    }

    @Test
    void shouldDefaultTimeoutsAndChecksByProtocol()
    {
        final SluiceConfig config = ConfigLoader.parse(lbWith("""
            - {protocol: tcp, port: 80, serverGroup: app}
            - {protocol: udp, port: 53, serverGroup: app, scheduler: maglev}
            """), "t");
        final Listener tcp = config.loadBalancers().getFirst().listeners().get(0);
        final Listener udp = config.loadBalancers().getFirst().listeners().get(1);
        assertThat(tcp.idleTimeoutSeconds()).isEqualTo(900);
        assertThat(tcp.healthCheck().type()).isEqualTo(HealthCheckType.TCP);
        assertThat(tcp.xForwardedFor()).as("an L7 key on an L4 listener").isNull();
        assertThat(udp.idleTimeoutSeconds()).isEqualTo(300);
        assertThat(udp.healthCheck().type()).isEqualTo(HealthCheckType.UDP);
    }

    @Test
    void shouldNameKeyPathValueAndRangeForOutOfRangeValues()
    {
        final ConfigException ex = rejected(lbWith("""
            - {protocol: tcp, port: 80, serverGroup: app}
            - {protocol: udp, port: 70000, serverGroup: app}
            """));
        assertThat(ex.errors()).containsExactly("loadBalancers[0].listeners[1].port: 70000 is not in 1..65535");
        assertThat(ex.getMessage()).contains("nothing applied");
    }

    static Stream<Arguments> errorClasses()
    {
        return Stream.of(
            Arguments.of("unknown key", lbWith("- {protocol: tcp, prot: 80, port: 80, serverGroup: app}"),
                "loadBalancers[0].listeners[0].prot: unknown key (allowed: protocol, port, serverGroup"),
            Arguments.of("wrong type", lbWith("- {protocol: tcp, port: eighty, serverGroup: app}"),
                "loadBalancers[0].listeners[0].port: expected an integer, got a string \"eighty\""),
            Arguments.of("bad enum", lbWith("- {protocol: sctp, port: 80, serverGroup: app}"),
                "loadBalancers[0].listeners[0].protocol: \"sctp\" is not one of tcp | udp | http | https"),
            Arguments.of("missing required", lbWith("- {protocol: tcp, serverGroup: app}"),
                "loadBalancers[0].listeners[0].port: is required (integer)"),
            Arguments.of("dangling server group", lbWith("- {protocol: tcp, port: 80, serverGroup: app2}"),
                "loadBalancers[0].listeners[0].serverGroup: \"app2\" names no server group of load balancer \"web\" "
                    + "(known: app, api)"),
            Arguments.of("dangling rule group", lbWith("""
                - protocol: http
                  port: 80
                  serverGroup: app
                  rules: [{path: /v1, serverGroup: nope}]"""),
                "loadBalancers[0].listeners[0].rules[0].serverGroup: \"nope\" names no server group"),
            Arguments.of("duplicate port on a VIP", lbWith("""
                - {protocol: tcp, port: 80, serverGroup: app}
                - {protocol: http, port: 80, serverGroup: app}"""),
                "loadBalancers[0].listeners[1].port: 80/tcp is already used on VIP 198.18.0.100 by listeners[0]"),
            Arguments.of("bad address", HEADER + "loadBalancers: [{name: web, vip: example.com}]",
                "loadBalancers[0].vip: \"example.com\" is not an IPv4 or IPv6 address"),
            Arguments.of("bad CIDR", lbWith("- {protocol: tcp, port: 80, serverGroup: app, acl: {mode: deny, cidrs: [198.18.0.0/33]}}"),
                "loadBalancers[0].listeners[0].acl.cidrs[0]: \"198.18.0.0/33\" is not a CIDR prefix: prefix length 33 is not in 0..32"),
            Arguments.of("key not for the protocol", lbWith("- {protocol: udp, port: 53, serverGroup: app, synProxy: true}"),
                "loadBalancers[0].listeners[0].synProxy: is only for tcp listeners"),
            Arguments.of("L4 scheduler on L7", lbWith("- {protocol: http, port: 80, serverGroup: app, scheduler: maglev}"),
                "loadBalancers[0].listeners[0].scheduler: \"maglev\" is not one of rr | wrr | wlc | hash for http listeners"),
            Arguments.of("protocol-dependent range", lbWith("- {protocol: http, port: 80, serverGroup: app, idleTimeoutSeconds: 61}"),
                "loadBalancers[0].listeners[0].idleTimeoutSeconds: 61 is not in 1..60 for http listeners"),
            Arguments.of("https without certificate", lbWith("- {protocol: https, port: 443, serverGroup: app}"),
                "loadBalancers[0].listeners[0].certificates: an https listener needs at least one certificate"),
            Arguments.of("sentinel range", HEADER + "loadBalancers: [{name: web, vip: 198.18.0.1, bandwidthMbps: 0}]",
                "loadBalancers[0].bandwidthMbps: 0 is not in -1 (unlimited) or 1..100000"),
            Arguments.of("duplicate load balancer", HEADER + "loadBalancers: [{name: a, vip: 198.18.0.1}, {name: a, vip: 198.18.0.2}]",
                "loadBalancers[1].name: \"a\" is already the name of loadBalancers[0]"),
            Arguments.of("duplicate VIP", HEADER + "loadBalancers: [{name: a, vip: 2001:2::1}, {name: b, vip: '2001:2:0::1'}]",
                "loadBalancers[1].vip: 2001:2:0::1 is already the VIP of loadBalancers[0]"),
            Arguments.of("duplicate server", HEADER
                    + "loadBalancers: [{name: a, vip: 198.18.0.1, serverGroups: [{name: g, servers: "
                    + "[{address: 198.18.10.2, port: 80}, {address: 198.18.10.2, port: 80}]}]}]",
                "loadBalancers[0].serverGroups[0].servers: servers[1] 198.18.10.2:80 is listed twice"),
            Arguments.of("sticky server without cookie", lbWith(
                    "- {protocol: http, port: 80, serverGroup: app, stickySession: {type: server}}"),
                "loadBalancers[0].listeners[0].stickySession.cookieName: is required when type is server"),
            Arguments.of("cluster relation", HEADER + "cluster: {peers: [198.18.3.2], heartbeatMillis: 100, deadAfterMillis: 150}",
                "cluster.keyFile: is required when peers are given"),
            Arguments.of("session capacity per forwarder", HEADER + "node: {name: n, sessionCapacity: 20000000}",
                "node.sessionCapacity: 20000000 is more than 15790320 per forwarder allows with 1 forwarders"),
            Arguments.of("wrong api version", "apiVersion: sluice/v2\n",
                "apiVersion: \"sluice/v2\" is not sluice/v1"),
            Arguments.of("not an object", HEADER + "node: [a]", "node: expected an object, got a list"),
            Arguments.of("syntax error", "apiVersion: sluice/v1\nloadBalancers: [\n",
                "(syntax) line 2, column 17: while parsing a flow node; expected the node content, but found '<stream end>'"),
            Arguments.of("duplicate YAML key", "apiVersion: sluice/v1\napiVersion: sluice/v1\n", "Duplicate field 'apiVersion'"),
            Arguments.of("local address family", HEADER + """
                node: {name: n, interfaces: [{name: eth1}], localAddresses: [198.18.2.10]}
                loadBalancers:
                  - name: web
                    vip: 198.18.0.100
                    listeners: [{protocol: tcp, port: 80, serverGroup: g}]
                    serverGroups: [{name: g, servers: [{address: "2001:2::10", port: 80}]}]
                """, "node.localAddresses: has no IPv6 address, needed to reach server [2001:2:0:0:0:0:0:10]:80"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorClasses")
    void shouldRejectEachErrorClassWithItsKeyPath(final String errorClass, final String yaml, final String expected)
    {
        final ConfigException ex = rejected(yaml);
        assertThat(ex).as(errorClass).isNotNull();
        assertThat(ex.errors()).as(errorClass).anySatisfy(e -> assertThat(e).contains(expected));
    }

    @Test
    void shouldReportAllErrorsAtOnce()
    {
        final ConfigException ex = rejected(HEADER + """
            node: {name: n, forwarders: 0, sessionCapacity: 10}
            loadBalancers:
              - name: web
                vip: 198.18.0.300
                listeners:
                  - {protocol: tcp, port: 0, serverGroup: missing}
            """);
        assertThat(ex.errors()).containsExactlyInAnyOrder(
            "node.forwarders: 0 is not in 1..64",
            "node.sessionCapacity: 10 is not in 1024..100000000",
            "loadBalancers[0].vip: \"198.18.0.300\" is not an IPv4 or IPv6 address",
            "loadBalancers[0].listeners[0].port: 0 is not in 1..65535");
    }

    @Test
    void shouldAcceptJsonAsTheApiSendsIt()
    {
        final SluiceConfig config = ConfigLoader.parse("""
            {"apiVersion": "sluice/v1", "loadBalancers": [{"name": "j", "vip": "2001:2::100",
              "listeners": [{"protocol": "udp", "port": 53, "serverGroup": "dns"}],
              "serverGroups": [{"name": "dns", "servers": [{"address": "2001:2::53", "port": 53, "weight": 0}]}]}]}
            """, "api");
        assertThat(config.loadBalancers().getFirst().listeners().getFirst().scheduler()).isEqualTo(Scheduler.WRR);
    }

    @Test
    void shouldRoundTripThroughJson() throws Exception
    {
        final SluiceConfig config = ConfigLoader.load(Path.of("../examples/full.yaml"));
        final String json = ConfigLoader.jsonWriter().writeValueAsString(config);
        assertThat(ConfigLoader.parse(json, "round trip")).isEqualTo(config);
    }

    @Test
    void shouldRejectEmptyFile()
    {
        assertThatThrownBy(() -> ConfigLoader.parse("", "empty.yaml")).hasMessageContaining("the file is empty");
    }
}
