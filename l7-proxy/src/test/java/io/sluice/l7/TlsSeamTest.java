package io.sluice.l7;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The https seam with BoringSSL: SNI picks the context {@link TlsContexts} maps the name to, ALPN picks h2 or HTTP/1.1.
 * The contexts here hold test keys in-process only because the key server's keyless contexts plug in at the same seam
 * (its helper owns that part); the proxy code is the same either way.
 */
class TlsSeamTest
{
    @TempDir
    Path dir;
    private L7Proxy proxy;
    private TestBackend backend;

    @AfterEach
    void tearDown()
    {
        if (proxy != null)
        {
            proxy.close();
        }
        if (backend != null)
        {
            backend.close();
        }
    }

    private SslContext context(final String host) throws Exception
    {
        final Path key = dir.resolve(host + ".key");
        final Path cert = dir.resolve(host + ".crt");
        final Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=" + host,
            "-addext", "subjectAltName=DNS:" + host).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(openssl.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).isZero();
        return SslContextBuilder.forServer(new File(cert.toString()), new File(key.toString()))
            .sslProvider(SslProvider.OPENSSL)
            .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
            .build();
    }

    private static String subject(final int port, final String serverName) throws Exception
    {
        final Process process = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", serverName)
            .redirectErrorStream(true).start();
        process.getOutputStream().close();
        final String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
        return out.lines().filter(line -> line.startsWith("subject=")).findFirst().orElse(out);
    }

    @Test
    void shouldPickTheCertificateBySniAndNegotiateH2OrHttp11() throws Exception
    {
        final SslContext www = context("www.example.com");
        final SslContext api = context("api.example.com");
        backend = new TestBackend("tls");
        final int port = ProxyTests.freePort();
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder("web/https", "127.0.0.1", port)
            .protocol("https")
            .http2(true)
            .tls(host -> "api.example.com".equals(host) ? api : www)
            .serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
            .build())), ProxyTests.counters());

        final String apiUrl = "https://api.example.com:" + port + "/secure";
        final String resolve = "api.example.com:" + port + ":127.0.0.1";
        final Curl.Result h2 = Curl.get(apiUrl, "-k", "--resolve", resolve);
        assertThat(h2.headers()).startsWith("HTTP/2 200");
        assertThat(subject(port, "api.example.com")).endsWith("api.example.com");
        assertThat(subject(port, "www.example.com")).endsWith("www.example.com");
        assertThat(h2.body()).isEqualTo("tls GET /secure 0");
        assertThat(backend.seen.get(0).header("X-Forwarded-Proto")).isEqualTo("https");

        final Curl.Result h1 = Curl.get("https://www.example.com:" + port + "/one", "-k", "--http1.1",
            "--resolve", "www.example.com:" + port + ":127.0.0.1");
        assertThat(h1.headers()).startsWith("HTTP/1.1 200");
        assertThat(h1.body()).isEqualTo("tls GET /one 0");
    }

    @Test
    void shouldCloseConnectionsWhileTheListenersContextsAreNotLoadedAndCountThem() throws Exception
    {
        backend = new TestBackend("tls");
        final int port = ProxyTests.freePort();
        final CountersManager counters = ProxyTests.counters();
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder("web/https", "127.0.0.1", port)
            .protocol("https")
            .tls(host ->
            {
                throw new IllegalStateException("TLS contexts not loaded: key server down");
            })
            .serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
            .build())), counters);

        final Curl.Result refused = Curl.get("https://www.example.com:" + port + "/", "-k", "-S",
            "--resolve", "www.example.com:" + port + ":127.0.0.1");
        assertThat(refused.headers()).doesNotContain("HTTP/").contains("alert internal error");
        assertThat(backend.seen).isEmpty();
        assertThat(counter(counters, "l7.drop.tls_not_ready[web/https]")).isEqualTo(1);
    }

    @Test
    void shouldInstallTheListenersAlertHandlerRightAfterTheSniHandler() throws Exception
    {
        final SslContext www = context("www.example.com");
        final List<List<String>> pipelines = new CopyOnWriteArrayList<>();
        backend = new TestBackend("tls");
        final int port = ProxyTests.freePort();
        final TlsContexts tls = new TlsContexts()
        {
            @Override
            public SslContext contextFor(final String sniHostName)
            {
                return www;
            }

            @Override
            public ChannelHandler newAlertHandler()
            {
                return new ChannelInboundHandlerAdapter()
                {
                    @Override
                    public void handlerAdded(final ChannelHandlerContext ctx)
                    {
                        pipelines.add(ctx.pipeline().names());
                    }
                };
            }
        };
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder("web/https", "127.0.0.1", port)
            .protocol("https")
            .tls(tls)
            .serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
            .build())), ProxyTests.counters());

        final Curl.Result ok = Curl.get("https://www.example.com:" + port + "/one", "-k", "--http1.1",
            "--resolve", "www.example.com:" + port + ":127.0.0.1");
        assertThat(ok.headers()).startsWith("HTTP/1.1 200");
        assertThat(pipelines).hasSize(1);
        final List<String> names = pipelines.getFirst();
        assertThat(names.indexOf("tlsAlert")).isEqualTo(names.indexOf("tls") + 1);
    }

    private static long counter(final CountersManager counters, final String label)
    {
        final AtomicLong value = new AtomicLong(-1);
        counters.forEach((id, typeId, keyBuffer, counterLabel) ->
        {
            if (counterLabel.equals(label))
            {
                value.set(counters.getCounterValue(id));
            }
        });
        return value.get();
    }
}
