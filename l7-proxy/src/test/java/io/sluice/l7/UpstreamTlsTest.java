package io.sluice.l7;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TLS to a real TLS backend: SNI sent, chain and name verified against the group's CA, a refused certificate is a 502. */
class UpstreamTlsTest
{
    private static final String LISTENER = "web/http";

    @TempDir
    static Path dir;
    private static TlsBackend backend;
    private L7Proxy proxy;
    private int port;

    @BeforeAll
    static void startBackend() throws Exception
    {
        backend = new TlsBackend(dir);
    }

    @AfterAll
    static void stopBackend()
    {
        backend.close();
    }

    @AfterEach
    void stop()
    {
        if (proxy != null)
        {
            proxy.close();
        }
    }

    private void start(final UpstreamTls tls) throws Exception
    {
        port = ProxyTests.freePort();
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port).serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(new Server("127.0.0.1", backend.port(), 100)), false, tls)))
            .build())), ProxyTests.counters());
    }

    private String get(final String path) throws Exception
    {
        return ProxyTests.raw(port, "GET " + path + " HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n");
    }

    @Test
    void shouldSpeakTlsWithSniAndVerifyTheBackendAgainstTheGroupsCa() throws Exception
    {
        start(new UpstreamTls(true, TlsBackend.HOST, backend.caPem.toString()));
        assertThat(get("/secure")).startsWith("HTTP/1.1 200").endsWith("tls sni=" + TlsBackend.HOST + " /secure");
        // the second request reuses the pooled TLS connection
        assertThat(get("/again")).startsWith("HTTP/1.1 200");
        assertThat(proxy.counter(LISTENER, L7Counter.POOL_REUSES)).isEqualTo(1);
    }

    @Test
    void shouldRefuseABackendWhoseCertificateTheCaDidNotSign() throws Exception
    {
        start(new UpstreamTls(true, TlsBackend.HOST, backend.otherCaPem.toString()));
        final int handshakesBefore = backend.sniSeen.size();
        // the failed handshake counts as a connect failure; with no other server to retry on, 503
        assertThat(get("/untrusted")).startsWith("HTTP/1.1 503");
        assertThat(proxy.counter(LISTENER, L7Counter.BACKEND_CONNECT_FAILURES)).isEqualTo(1);
        assertThat(backend.sniSeen.size()).isEqualTo(handshakesBefore + 1);
    }

    @Test
    void shouldRefuseABackendWhoseCertificateNamesAnotherHost() throws Exception
    {
        start(new UpstreamTls(true, "wrong.example.test", backend.caPem.toString()));
        assertThat(get("/wrong-name")).startsWith("HTTP/1.1 503");
        assertThat(proxy.counter(LISTENER, L7Counter.BACKEND_CONNECT_FAILURES)).isEqualTo(1);
    }

    @Test
    void shouldAcceptAnyCertificateWithoutSniWhenNotVerifying() throws Exception
    {
        start(new UpstreamTls(false, null, null));
        assertThat(get("/plain-ip")).startsWith("HTTP/1.1 200").endsWith("tls sni=none /plain-ip");
    }

    @Test
    void shouldNameTheGroupWhenItsCaFileCannotBeRead()
    {
        assertThatThrownBy(() -> start(new UpstreamTls(true, null, dir.resolve("missing.pem").toString())))
            .isInstanceOf(ConfigException.class).hasMessageContaining("serverGroups[app].tls.caFile");
    }
}
