package io.sluice.control.node;

import io.sluice.control.NodeFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTPS through a whole node with the key server in its own process: a {@code sluice keyserver} child holding RSA and
 * ECDSA certificates (made with openssl here and imported with {@code sluice keyserver import}), a {@code sluice node}
 * child with keyless https listeners, curl and {@code openssl s_client} as clients in the test's namespace. Covers
 * RSA/ECDSA, TLS 1.2/1.3, h2/http1.1, SNI, mutual TLS, a key server killed and restarted under the same node process, and
 * the http → https redirect.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeHttpsTest
{
    private static final String VIP = "198.18.0.100";
    /** s_client prints it only after a completed handshake ("Verify return code: 0" also follows a failed one). */
    private static final String HANDSHAKE_DONE = "Server public key is";

    private Path dir;
    private NodeFixture fixture;
    private Path pki;
    private Path keyDir;
    private Path shm;
    private Path masterKey;
    private Process keyServer;

    @BeforeAll
    void start() throws Exception
    {
        dir = Files.createTempDirectory("sluice-https");
        fixture = new NodeFixture("hs", dir);
        pki = Files.createDirectories(dir.resolve("pki"));
        keyDir = dir.resolve("keys");
        shm = dir.resolve("shm");
        masterKey = dir.resolve("master.key");
        makePki();
        importEntry("rsa", "rsa.pem", "rsa.key", "ca.pem");
        importEntry("ec", "ec.pem", "ec.key", "ca.pem");
        final NodeFixture.Result ca = fixture.sluice("keyserver", "import", "--dir", keyDir.toString(), "--master-key-file",
            masterKey.toString(), "--name", "clientca", "--ca", "--cert", pki.resolve("clientca.pem").toString());
        assertThat(ca.exitCode()).as(ca.output()).isZero();
        startKeyServer();

        NodeFixture.run("ip", "-n", fixture.netns(), "addr", "add", "198.18.10.2/32", "dev", "lo");
        fixture.spawnJava(dir.resolve("be1.log"), "io.sluice.testbed.servers.BackendMain", "--name", "be1", "--http", "8080");
        awaitTrue(() -> run("curl", "-s", "--max-time", "2", "http://198.18.10.2:8080/health").contains("ok"), 30);

        final Path stateDir = dir.resolve("state");
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node: {name: hs, stateDir: %s, profile: shared, drainTimeoutSeconds: 1, keyserver: %s}
            loadBalancers:
              - name: web
                vip: %s
                listeners:
                  - {protocol: https, port: 443, serverGroup: app, certificates: [rsa, ec], tlsPolicy: tls_1_2_strict_with_1_3,
                     http2: true}
                  - {protocol: https, port: 8443, serverGroup: app, certificates: [ec], tlsPolicy: tls_1_2_strict_with_1_3,
                     mutualTls: {caCertificate: clientca}}
                  - {protocol: https, port: 9443, serverGroup: app, certificates: [late], tlsPolicy: tls_1_2}
                  - {protocol: http, port: 80, redirectTo: {protocol: https, port: 443}}
                serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]
            """.formatted(stateDir, shm, VIP));
        fixture.startNode(config);
        // "late" is imported by the first test: until then that listener, and so the node, is not ready
        awaitTrue(() -> healthz().contains("web/https:9443: certificate late"), 30);
    }

    @Test
    @Order(0)
    void shouldHoldAListenerNotReadyUntilItsCertificateIsImportedAndFollowARenewal() throws Exception
    {
        assertThat(healthz()).contains("not ready").contains("unknown").doesNotContain("web/https:443");
        final NodeFixture.Result refused = curlResult("late.example.test", 9443, "/");
        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        assertThat(refused.output()).contains("alert internal error");

        importEntry("late", "late.pem", "late.key", "ca.pem");
        // the running key server picks the import up; the node retries the load every second by itself
        awaitTrue(() -> healthz().contains("\"ready\""), 30);
        assertThat(curl("late.example.test", 9443, "-D", "-")).containsIgnoringCase("x-backend: be1");
        assertThat(sClient("late.example.test", 9443, "-tls1_2")).contains("subject=CN = late.example.test");

        // renewal: a new certificate and key imported under the same name reach the running node by themselves
        importEntry("late", "late2.pem", "late2.key", "ca.pem");
        awaitTrue(() -> sClient("late.example.test", 9443, "-tls1_2").contains("subject=CN = late2.example.test"), 30);
        assertThat(sClient("late.example.test", 9443, "-tls1_2")).contains(HANDSHAKE_DONE).contains("Server public key is 2048 bit");
        assertThat(healthz()).contains("\"ready\"");
    }

    @AfterAll
    void stop() throws Exception
    {
        try
        {
            if (fixture != null)
            {
                fixture.close();
            }
        }
        finally
        {
            NodeFixture.run("rm", "-rf", dir.toString());
        }
    }

    @Test
    @Order(1)
    void shouldServeRsaAndEcdsaOverTls12AndTls13WithH2AndHttp11() throws Exception
    {
        for (final String host : new String[] {"rsa.example.test", "ec.example.test"})
        {
            for (final String tls : new String[] {"1.2", "1.3"})
            {
                for (final String http : new String[] {"--http1.1", "--http2"})
                {
                    final String out = curlPath(host, 443, "/echo", "--tlsv" + tls, "--tls-max", tls, http,
                        "-w", "\\n%{http_version} %{ssl_verify_result}", "-D", "-");
                    assertThat(out).as(host + " TLS " + tls + " " + http).containsIgnoringCase("x-backend: be1")
                        .containsIgnoringCase("x-forwarded-proto: https").containsIgnoringCase("x-forwarded-port: 443")
                        .endsWith(("--http2".equals(http) ? "2" : "1.1") + " 0");
                }
            }
        }
    }

    @Test
    @Order(2)
    void shouldPickTheCertificateBySniWithOpenssl() throws Exception
    {
        final String rsa = sClient("rsa.example.test", 443, "-tls1_3");
        assertThat(rsa).contains("subject=CN = rsa.example.test").contains(HANDSHAKE_DONE)
            .contains("Verify return code: 0 (ok)").contains("TLSv1.3")
            .containsPattern("(?i)peer signature type: rsa");
        final String ec = sClient("ec.example.test", 443, "-tls1_2");
        assertThat(ec).contains("subject=CN = ec.example.test").contains(HANDSHAKE_DONE)
            .contains("Verify return code: 0 (ok)").contains("TLSv1.2")
            .containsPattern("(?i)peer signature type: ecdsa");
        // no SNI, or a name no certificate covers: the first certificate
        assertThat(sClient(null, 443, "-tls1_3")).contains("subject=CN = rsa.example.test");
        assertThat(sClient("other.example.test", 443, "-tls1_2")).contains("subject=CN = rsa.example.test");
    }

    @Test
    @Order(2)
    void shouldResumeSessionsWithTicketKeysFromTheKeyServer() throws Exception
    {
        final String session = dir.resolve("session.pem").toString();
        final String first = sClient("ec.example.test", 443, "-tls1_2", "-sess_out", session);
        assertThat(first).contains(HANDSHAKE_DONE).contains("New, TLSv1.2").contains("TLS session ticket:");
        final String resumed = sClient("ec.example.test", 443, "-tls1_2", "-sess_in", session);
        assertThat(resumed).contains("Reused, TLSv1.2");
    }

    @Test
    @Order(3)
    void shouldRequireAClientCertificateFromTheImportedCa() throws Exception
    {
        final String good = curl("ec.example.test", 8443, "--cert", pki.resolve("client.pem").toString(),
            "--key", pki.resolve("client.key").toString(), "-D", "-");
        assertThat(good).containsIgnoringCase("x-backend: be1");
        for (final String tls : new String[] {"1.2", "1.3"})
        {
            final NodeFixture.Result missing = curlResult("ec.example.test", 8443, "/", "--tlsv" + tls, "--tls-max", tls);
            assertThat(missing.exitCode()).as("no client certificate, TLS " + tls + ": " + missing.output()).isNotZero();
            assertThat(missing.output()).doesNotContain("be1");
            final NodeFixture.Result wrong = curlResult("ec.example.test", 8443, "/", "--tlsv" + tls, "--tls-max", tls,
                "--cert", pki.resolve("rogue.pem").toString(), "--key", pki.resolve("rogue.key").toString());
            assertThat(wrong.exitCode()).as("client certificate of another CA, TLS " + tls + ": " + wrong.output()).isNotZero();
            assertThat(wrong.output()).doesNotContain("be1");
        }
    }

    @Test
    @Order(4)
    void shouldRedirectHttpToHttps() throws Exception
    {
        final String out = run("curl", "-s", "--max-time", "5", "-D", "-", "-o", "/dev/null", "http://rsa.example.test/a/b?c=d",
            "--resolve", "rsa.example.test:80:" + VIP);
        assertThat(out).startsWith("HTTP/1.1 301").containsIgnoringCase("location: https://rsa.example.test/a/b?c=d");
        final String followed = run("curl", "-s", "-L", "--max-time", "5", "--cacert", pki.resolve("ca.pem").toString(),
            "--resolve", "rsa.example.test:80:" + VIP, "--resolve", "rsa.example.test:443:" + VIP, "-D", "-",
            "http://rsa.example.test/");
        assertThat(followed).containsIgnoringCase("x-backend: be1");
    }

    @Test
    @Order(5)
    void shouldFailHandshakesWithAnAlertWhileTheKeyServerIsDownAndRecoverWhenItReturns() throws Exception
    {
        final long nodePid = fixture.node().pid();
        assertThat(sClient("ec.example.test", 443, "-tls1_3")).contains(HANDSHAKE_DONE).contains("Verify return code: 0 (ok)");

        keyServer.destroyForcibly();
        final long killedAt = System.nanoTime();
        keyServer.waitFor(10, TimeUnit.SECONDS);
        // The node's key-server client declares the server dead after 500 ms without heartbeat; from then every
        // handshake is refused at once with a fatal internal_error alert rather than a silent close.
        awaitTrue(() -> sClient("ec.example.test", 443, "-tls1_3").contains("alert internal error"), 10);
        final long failedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        System.getLogger(NodeHttpsTest.class.getName()).log(System.Logger.Level.INFO,
            "handshake refused with an alert " + failedAfterMs + " ms after SIGKILL of the key server");
        assertThat(sClient("rsa.example.test", 443, "-tls1_2")).contains("alert internal error");
        awaitTrue(() -> healthz().contains("key server"), 10);
        assertThat(healthz()).contains("not ready").contains("web/https:443");

        // a listener added while the key server is down is accepted, not ready, and refuses TLS with the alert
        final String put = run("curl", "-s", "-X", "PUT", "-H", "Authorization: Bearer " + token(),
            "-H", "Content-Type: application/json", "--data-binary",
            "{\"serverGroup\": \"app\", \"certificates\": [\"ec\"], \"tlsPolicy\": \"tls_1_2\"}",
            "http://127.0.0.1:9900/v1/loadbalancers/web/listeners/https:7443");
        assertThat(put).doesNotContain("nothing applied");
        awaitTrue(() -> healthz().contains("web/https:7443: certificate ec"), 10);
        System.getLogger(NodeHttpsTest.class.getName()).log(System.Logger.Level.INFO, "/healthz with the key server down: " + healthz());
        assertThat(curlResult("ec.example.test", 7443, "/").output()).contains("alert internal error");

        startKeyServer();
        awaitTrue(() -> sClient("rsa.example.test", 443, "-tls1_2").contains(HANDSHAKE_DONE), 20);
        assertThat(curl("ec.example.test", 443, "--http2", "-D", "-")).containsIgnoringCase("x-backend: be1");
        awaitTrue(() -> healthz().contains("\"ready\""), 10);
        assertThat(curl("ec.example.test", 7443, "-D", "-")).containsIgnoringCase("x-backend: be1");
        assertThat(fixture.node().pid()).isEqualTo(nodePid);
        assertThat(fixture.node().isAlive()).isTrue();
    }

    @Test
    @Order(6)
    void shouldHoldNoPrivateKeyBytesInTheNodeHeap() throws Exception
    {
        assertThat(sClient("rsa.example.test", 443, "-tls1_2")).contains(HANDSHAKE_DONE);
        assertThat(sClient("ec.example.test", 443, "-tls1_3")).contains(HANDSHAKE_DONE);
        final Path dump = dir.resolve("node.hprof");
        final Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        NodeFixture.run(jcmd.toString(), Long.toString(fixture.node().pid()), "GC.heap_dump", dump.toString());
        try
        {
            final byte[] heap = Files.readAllBytes(dump);
            assertThat(heap.length).isGreaterThan(1 << 20);
            for (final String name : new String[] {"rsa", "ec"})
            {
                final byte[] der = pemBody(pki.resolve(name + ".key"));
                final java.security.PrivateKey key = java.security.KeyFactory.getInstance("rsa".equals(name) ? "RSA" : "EC")
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
                final java.math.BigInteger secret = key instanceof java.security.interfaces.RSAPrivateCrtKey crt
                    ? crt.getPrivateExponent() : ((java.security.interfaces.ECPrivateKey)key).getS();
                assertThat(indexOf(heap, der)).as(name + " PKCS#8 key in the node heap").isNegative();
                assertThat(indexOf(heap, unsigned(secret.toByteArray()))).as(name + " private scalar in the node heap").isNegative();
                // the search finds what is there: the public certificate is
                assertThat(indexOf(heap, java.util.Arrays.copyOf(pemBody(pki.resolve(name + ".pem")), 64)))
                    .as(name + " certificate in the node heap").isNotNegative();
            }
        }
        finally
        {
            Files.deleteIfExists(dump);
        }
    }

    private static byte[] pemBody(final Path pem) throws java.io.IOException
    {
        return java.util.Base64.getDecoder().decode(Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
    }

    private static byte[] unsigned(final byte[] bytes)
    {
        return bytes.length > 1 && bytes[0] == 0 ? java.util.Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
    }

    private static int indexOf(final byte[] haystack, final byte[] needle)
    {
        for (int i = 0; i <= haystack.length - needle.length; i++)
        {
            if (haystack[i] == needle[0] && java.util.Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length))
            {
                return i;
            }
        }
        return -1;
    }

    private void startKeyServer() throws Exception
    {
        keyServer = fixture.spawnJava(dir.resolve("keyserver-" + System.nanoTime() + ".log"), "io.sluice.control.cli.Main",
            "keyserver", "--dir", keyDir.toString(), "--shm", shm.toString(), "--master-key-file", masterKey.toString(),
            "--workers", "1");
        awaitTrue(() -> Files.exists(shm.resolve("keyserver.shm")) || !keyServer.isAlive(), 30);
        assertThat(keyServer.isAlive()).isTrue();
    }

    private void importEntry(final String name, final String cert, final String key, final String chain) throws Exception
    {
        final NodeFixture.Result r = fixture.sluice("keyserver", "import", "--dir", keyDir.toString(), "--master-key-file",
            masterKey.toString(), "--name", name, "--cert", pki.resolve(cert).toString(), "--key", pki.resolve(key).toString(),
            "--chain", pki.resolve(chain).toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    /** A server CA with an RSA-2048 and an ECDSA P-256 leaf; a client CA with one client; a rogue client of the server CA. */
    private void makePki() throws Exception
    {
        ca("ca", "sluice test server CA");
        ca("clientca", "sluice test client CA");
        leaf("rsa", "ca", List.of("-newkey", "rsa:2048"), "subjectAltName=DNS:rsa.example.test\nextendedKeyUsage=serverAuth\n");
        leaf("ec", "ca", List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
            "subjectAltName=DNS:ec.example.test\nextendedKeyUsage=serverAuth\n");
        leaf("late", "ca", List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"),
            "subjectAltName=DNS:late.example.test\nextendedKeyUsage=serverAuth\n");
        leaf("late2", "ca", List.of("-newkey", "rsa:2048"), "subjectAltName=DNS:late.example.test\nextendedKeyUsage=serverAuth\n");
        leaf("client", "clientca", List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"), "extendedKeyUsage=clientAuth\n");
        leaf("rogue", "ca", List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"), "extendedKeyUsage=clientAuth\n");
    }

    private void ca(final String name, final String subject) throws Exception
    {
        NodeFixture.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", pki.resolve(name + ".key").toString(), "-out", pki.resolve(name + ".pem").toString(), "-days", "30",
            "-subj", "/CN=" + subject, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    }

    private void leaf(final String name, final String ca, final List<String> keySpec, final String extensions) throws Exception
    {
        final List<String> req = new ArrayList<>(List.of("openssl", "req"));
        req.addAll(keySpec);
        req.addAll(List.of("-nodes", "-keyout", pki.resolve(name + ".key").toString(), "-out", pki.resolve(name + ".csr").toString(),
            "-subj", "/CN=" + name + ".example.test"));
        NodeFixture.run(req.toArray(String[]::new));
        final Path ext = pki.resolve(name + ".ext");
        Files.writeString(ext, "basicConstraints=CA:FALSE\n" + extensions);
        NodeFixture.run("openssl", "x509", "-req", "-in", pki.resolve(name + ".csr").toString(),
            "-CA", pki.resolve(ca + ".pem").toString(), "-CAkey", pki.resolve(ca + ".key").toString(), "-CAcreateserial",
            "-out", pki.resolve(name + ".pem").toString(), "-days", "30", "-extfile", ext.toString());
    }

    private String curl(final String host, final int port, final String... extra) throws Exception
    {
        return curlPath(host, port, "/", extra);
    }

    private String curlPath(final String host, final int port, final String path, final String... extra) throws Exception
    {
        final NodeFixture.Result r = curlResult(host, port, path, extra);
        assertThat(r.exitCode()).as(r.output()).isZero();
        return r.output().strip();
    }

    private NodeFixture.Result curlResult(final String host, final int port, final String path, final String... extra)
        throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "5", "--cacert",
            pki.resolve("ca.pem").toString(), "--resolve", host + ":" + port + ":" + VIP));
        command.addAll(List.of(extra));
        command.add("https://" + host + ":" + port + path);
        return fixture.inNetns(command.toArray(String[]::new));
    }

    private String sClient(final String sni, final int port, final String... options) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("timeout", "5", "openssl", "s_client", "-connect", VIP + ":" + port,
            "-CAfile", pki.resolve("ca.pem").toString()));
        command.addAll(List.of(options));
        if (sni == null)
        {
            command.add("-noservername");
        }
        else
        {
            command.addAll(List.of("-servername", sni));
        }
        final List<String> shell = new ArrayList<>(List.of("bash", "-c", "exec \"$@\" </dev/null", "s_client"));
        shell.addAll(command);
        return fixture.inNetns(shell.toArray(String[]::new)).output();
    }

    private String healthz() throws Exception
    {
        return run("curl", "-s", "--max-time", "2", "http://127.0.0.1:9900/healthz");
    }

    private String token() throws java.io.IOException
    {
        return Files.readString(dir.resolve("state").resolve("api.token")).strip();
    }

    private String run(final String... command) throws Exception
    {
        return fixture.inNetns(command).output();
    }
}
