package io.sluice.control.node;

import io.sluice.control.NodeFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node's http listener proxying over TLS to a real TLS backend ({@code openssl s_server}) in its namespace: the
 * group's {@code tls} key sends SNI and verifies the backend's certificate against the configured CA file.
 */
class NodeL7TlsBackendTest
{
    private static final String BACKEND_HOST = "backend.example.test";

    @TempDir
    Path dir;

    private NodeFixture fixture;
    private Process backend;

    @BeforeEach
    void start() throws Exception
    {
        fixture = new NodeFixture("sl-l7t", dir);
        NodeFixture.run("ip", "-n", fixture.netns(), "addr", "add", "198.18.10.2/32", "dev", "lo");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=sluice node test CA");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
            "-out", "leaf.csr", "-subj", "/CN=" + BACKEND_HOST);
        Files.writeString(dir.resolve("leaf.ext"), "subjectAltName=DNS:" + BACKEND_HOST + "\n");
        openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem",
            "-days", "2", "-extfile", "leaf.ext");
        // -www: answers every GET with an HTTP/1.0 status page over TLS (close-delimited)
        backend = new ProcessBuilder("ip", "netns", "exec", fixture.netns(), "openssl", "s_server", "-accept", "198.18.10.2:8443",
            "-cert", "leaf.pem", "-key", "leaf.key", "-www", "-quiet").directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("s_server.log").toFile()).start();
        awaitTrue(() -> fixture.inNetns("bash", "-c", "ss -ltn | grep -q '198.18.10.2:8443 '").exitCode() == 0, 30);
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node: {name: l7t, stateDir: %s, profile: shared, drainTimeoutSeconds: 2}
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
                  - {protocol: http, port: 80, serverGroup: secure, healthCheck: {type: tcp}}
                  - {protocol: http, port: 81, serverGroup: untrusted, healthCheck: {type: tcp}}
                serverGroups:
                  - {name: secure, servers: [{address: 198.18.10.2, port: 8443}],
                     tls: {sni: %s, caCertificate: %s}}
                  - {name: untrusted, servers: [{address: 198.18.10.2, port: 8443}],
                     tls: {sni: %s, caCertificate: /etc/ssl/certs/ca-certificates.crt}}
            """.formatted(dir.resolve("state"), BACKEND_HOST, dir.resolve("ca.pem"), BACKEND_HOST));
        fixture.startNode(config);
    }

    @AfterEach
    void stop() throws Exception
    {
        try
        {
            fixture.close();
        }
        finally
        {
            if (backend != null)
            {
                backend.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldProxyOverVerifiedTlsAndRefuseABackendTheCaDidNotSign() throws Exception
    {
        final NodeFixture.Result ok = fixture.inNetns("curl", "-s", "--max-time", "10", "-w", "\n%{http_code}",
            "http://198.18.0.100/");
        assertThat(ok.output()).as(ok.output()).contains("s_server").endsWith("200");

        final NodeFixture.Result refused = fixture.inNetns("curl", "-s", "-o", "/dev/null", "--max-time", "10", "-w",
            "%{http_code}", "http://198.18.0.100:81/");
        // the handshake fails (unknown CA): a connect failure with no other server left to try
        assertThat(refused.output()).startsWith("5");
    }

    private void openssl(final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0)
            .as(Files.readString(dir.resolve("openssl.log"))).isTrue();
    }
}
