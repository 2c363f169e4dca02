package io.sluice.l7;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The proxy over real sockets: real JDK HTTP backends, curl and the JDK HttpClient as clients. */
class L7ProxyTest
{
    private static final String LISTENER = "web/http";

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestBackend a;
    private TestBackend b;
    private TestBackend api;
    private L7Proxy proxy;
    private int port;

    @BeforeEach
    void setUp() throws Exception
    {
        a = track(new TestBackend("a"));
        b = track(new TestBackend("b"));
        api = track(new TestBackend("api"));
        port = ProxyTests.freePort();
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (proxy != null)
        {
            proxy.close();
        }
        for (final AutoCloseable closeable : closeables)
        {
            closeable.close();
        }
    }

    private <T extends AutoCloseable> T track(final T closeable)
    {
        closeables.add(closeable);
        return closeable;
    }

    private HttpListener.Builder listener()
    {
        return HttpListener.builder(LISTENER, "127.0.0.1", port)
            .serverGroup("app")
            .serverGroups(List.of(
                new ServerGroup("app", List.of(a.asServer(100), b.asServer(100))),
                new ServerGroup("api", List.of(api.asServer(100)))));
    }

    private void start(final UnaryOperator<HttpListener.Builder> customise)
    {
        proxy = L7Proxy.start(new ProxyConfig(List.of(customise.apply(listener()).build())), ProxyTests.counters());
    }

    private String url(final String path)
    {
        return "http://127.0.0.1:" + port + path;
    }

    @Test
    void shouldForwardWithForwardedHeadersAndWithoutHopByHopHeaders() throws Exception
    {
        start(l -> l);
        final Curl.Result result = Curl.get(url("/hello?x=1"), "-H", "X-Forwarded-For: 203.0.113.9",
            "-H", "Connection: keep-alive, X-Secret", "-H", "X-Secret: s", "-H", "Keep-Alive: timeout=5");

        assertThat(result.status()).isEqualTo(200);
        assertThat(result.body()).endsWith("GET /hello?x=1 0");
        final TestBackend.Seen seen = a.seen.isEmpty() ? b.seen.get(0) : a.seen.get(0);
        assertThat(seen.header("X-Forwarded-For")).isEqualTo("203.0.113.9, 127.0.0.1");
        assertThat(seen.header("X-Real-IP")).isEqualTo("127.0.0.1");
        assertThat(seen.header("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(seen.header("X-Forwarded-Port")).isEqualTo(String.valueOf(port));
        assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + port);
        assertThat(seen.header("X-Secret")).isNull();
        assertThat(seen.header("Keep-Alive")).isNull();
        assertThat(result.header("Keep-Alive")).isNull();
        assertThat(proxy.counter(LISTENER, L7Counter.RESPONSES_2XX)).isEqualTo(1);
    }

    @Test
    void shouldStreamChunkedRequestAndResponseBodies() throws Exception
    {
        start(l -> l);
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        final byte[] body = new byte[300_000];
        java.util.Arrays.fill(body, (byte)'b');
        // an InputStream publisher has no known length, so the JDK client sends it chunked
        final HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create(url("/upload")))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).endsWith("POST /upload 300000");

        final HttpResponse<byte[]> big = client.send(HttpRequest.newBuilder(URI.create(url("/big/2048"))).build(),
            HttpResponse.BodyHandlers.ofByteArray());
        assertThat(big.statusCode()).isEqualTo(200);
        assertThat(big.body()).hasSize(2048 * 1024);
    }

    @Test
    void shouldReuseKeepAliveConnectionsOnBothSides() throws Exception
    {
        start(l -> l);
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 20; i++)
        {
            final HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(url("/k" + i))).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        }
        assertThat(proxy.counter(LISTENER, L7Counter.CONNECTIONS_ACCEPTED)).isEqualTo(1);
        assertThat(proxy.counter(LISTENER, L7Counter.POOL_REUSES)).isGreaterThanOrEqualTo(16);
        assertThat(proxy.counter(LISTENER, L7Counter.BACKEND_CONNECTS)).isLessThanOrEqualTo(4);
    }

    @Test
    void shouldRouteByExactHostBeforeWildcardAndLongestPathPrefix() throws Exception
    {
        start(l -> l.rules(List.of(
            new Rule("*.example.com", "/", "app"),
            new Rule("api.example.com", "/v1", "api"),
            new Rule("api.example.com", "/v1/legacy", "app"),
            new Rule("*.svc.example.com", "/", "api"))));

        assertThat(Curl.get(url("/v1/users"), "-H", "Host: api.example.com").body()).startsWith("api ");
        assertThat(Curl.get(url("/v1/legacy/x"), "-H", "Host: api.example.com").body()).doesNotStartWith("api ");
        assertThat(Curl.get(url("/other"), "-H", "Host: api.example.com").body()).doesNotStartWith("api ");
        assertThat(Curl.get(url("/v1"), "-H", "Host: www.example.com").body()).doesNotStartWith("api ");
        assertThat(Curl.get(url("/"), "-H", "Host: x.svc.example.com:8080").body()).startsWith("api ");
        assertThat(Curl.get(url("/v1"), "-H", "Host: unknown.test").body()).doesNotStartWith("api ");
        assertThat(api.seen).hasSize(2);
    }

    @Test
    void shouldRedirectKeepingHostPathAndQuery() throws Exception
    {
        start(l -> l.rules(List.of(new Rule("old.example.com", "/", null, new Redirect("https", 443, 308))))
            .redirectTo(null));
        final Curl.Result permanent = Curl.get(url("/a/b?q=1&r=2"), "-H", "Host: old.example.com:" + port);
        assertThat(permanent.status()).isEqualTo(308);
        assertThat(permanent.header("Location")).isEqualTo("https://old.example.com/a/b?q=1&r=2");

        proxy.close();
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port)
            .redirectTo(new Redirect("https", 8443)).build())), ProxyTests.counters());
        final Curl.Result moved = Curl.get(url("/x?y"), "-H", "Host: www.example.com");
        assertThat(moved.status()).isEqualTo(301);
        assertThat(moved.header("Location")).isEqualTo("https://www.example.com:8443/x?y");
        assertThat(a.seen).isEmpty();
        assertThat(b.seen).isEmpty();
    }

    @Test
    void shouldKeepAnInsertedStickyCookieOnOneServer() throws Exception
    {
        start(l -> l.scheduler(SchedulerType.RR).stickySession(new StickySession(StickySession.Type.INSERT, 600, null)));
        final Curl.Result first = Curl.get(url("/s"));
        final String setCookie = first.header("Set-Cookie");
        assertThat(setCookie).startsWith(StickySession.INSERT_COOKIE_NAME + "=").contains("Max-Age=600");
        final String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        final String firstServer = first.header("X-Backend");
        for (int i = 0; i < 6; i++)
        {
            final Curl.Result next = Curl.get(url("/s"), "-H", "Cookie: " + cookie);
            assertThat(next.header("X-Backend")).isEqualTo(firstServer);
            assertThat(next.header("Set-Cookie")).isNull();
        }
        final Set<String> withoutCookie = new HashSet<>();
        for (int i = 0; i < 4; i++)
        {
            withoutCookie.add(Curl.get(url("/s")).header("X-Backend"));
        }
        assertThat(withoutCookie).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void shouldRewriteTheServersCookieForServerStickiness() throws Exception
    {
        a.setCookie = "JSESSIONID=abc123; Path=/";
        b.setCookie = "JSESSIONID=def456; Path=/";
        start(l -> l.scheduler(SchedulerType.RR).stickySession(new StickySession(StickySession.Type.SERVER, 0, "JSESSIONID")));
        final Curl.Result first = Curl.get(url("/s"));
        final String setCookie = first.header("Set-Cookie");
        final String backendValue = "a".equals(first.header("X-Backend")) ? "abc123" : "def456";
        assertThat(setCookie).matches("JSESSIONID=[0-9a-f]+\\." + backendValue + "; Path=/");
        final String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        final TestBackend chosen = "a".equals(first.header("X-Backend")) ? a : b;
        for (int i = 0; i < 4; i++)
        {
            assertThat(Curl.get(url("/s"), "-H", "Cookie: other=1; " + cookie).header("X-Backend")).isEqualTo(chosen.name);
        }
        assertThat(chosen.seen.get(chosen.seen.size() - 1).header("Cookie")).isEqualTo("other=1; JSESSIONID=" + backendValue);
    }

    @Test
    void shouldSkipADeadBackendAndRetryRequestsThatNeverReachedOne() throws Exception
    {
        final int deadPort = ProxyTests.freePort();
        start(l -> l.scheduler(SchedulerType.RR).serverGroups(List.of(new ServerGroup("app",
            List.of(new Server("127.0.0.1", deadPort, 100), a.asServer(100))))));
        for (int i = 0; i < 10; i++)
        {
            final Curl.Result result = Curl.get(url("/r" + i));
            assertThat(result.status()).isEqualTo(200);
            assertThat(result.header("X-Backend")).isEqualTo("a");
        }
        assertThat(proxy.counter(LISTENER, L7Counter.BACKEND_CONNECT_FAILURES)).isGreaterThanOrEqualTo(1);
        assertThat(proxy.counter(LISTENER, L7Counter.RETRIES)).isGreaterThanOrEqualTo(1);
        // five consecutive failures eject the dead server: later requests no longer try it
        assertThat(proxy.counter(LISTENER, L7Counter.BACKEND_CONNECT_FAILURES)).isLessThanOrEqualTo(5);
        assertThat(proxy.counter(LISTENER, L7Counter.EJECTIONS)).isEqualTo(1);
    }

    @Test
    void shouldSendNothingToAServerControlMarkedDownAnd503WhenNoneIsUp() throws Exception
    {
        start(l -> l.scheduler(SchedulerType.RR));
        assertThat(proxy.setServerState(LISTENER, a.asServer(1).key(), false)).isTrue();
        for (int i = 0; i < 4; i++)
        {
            assertThat(Curl.get(url("/h")).header("X-Backend")).isEqualTo("b");
        }
        proxy.setServerState(LISTENER, b.asServer(1).key(), false);
        assertThat(Curl.get(url("/h")).status()).isEqualTo(503);
        proxy.setServerState(LISTENER, a.asServer(1).key(), true);
        assertThat(Curl.get(url("/h")).header("X-Backend")).isEqualTo("a");
        assertThat(a.seen).hasSize(1);
    }

    @Test
    void shouldApplyNewRulesWithoutDroppingAnOpenConnection() throws Exception
    {
        start(l -> l);
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(5_000);
            assertThat(exchange(socket, "GET /v1 HTTP/1.1\r\nHost: api.example.com\r\n\r\n")).doesNotContain("api GET");
            proxy.apply(new ProxyConfig(List.of(listener().rules(List.of(new Rule("api.example.com", "/v1", "api"))).build())));
            assertThat(exchange(socket, "GET /v1 HTTP/1.1\r\nHost: api.example.com\r\n\r\n")).contains("api GET /v1 0");
        }
        assertThat(proxy.counter(LISTENER, L7Counter.CONNECTIONS_ACCEPTED)).isEqualTo(1);
    }

    @Test
    void shouldKeepServingTheOldListenerWhenItsReplacementCannotBind() throws Exception
    {
        start(l -> l);
        try (java.net.ServerSocket squatter = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()))
        {
            final HttpListener moved = HttpListener.builder("web/http-moved", "127.0.0.1", squatter.getLocalPort())
                .serverGroup("app").serverGroups(List.of(new ServerGroup("app", List.of(a.asServer(100))))).build();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> proxy.apply(new ProxyConfig(List.of(moved))))
                .hasMessageContaining("web/http-moved");
            assertThat(ProxyTests.raw(port, "GET /still HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                .as("the old listener was not closed before the new one failed to bind").contains("200");
        }
    }

    @Test
    void shouldSpreadByWeightAndHashConsistently() throws Exception
    {
        start(l -> l.scheduler(SchedulerType.HASH).hashKey(new HashKey(HashKey.Source.HEADER, "X-User")));
        final Set<String> perUser = new HashSet<>();
        for (int i = 0; i < 4; i++)
        {
            perUser.add(Curl.get(url("/h"), "-H", "X-User: alice").header("X-Backend"));
        }
        assertThat(perUser).hasSize(1);
        final Set<String> users = new HashSet<>();
        for (int i = 0; i < 24; i++)
        {
            users.add(Curl.get(url("/h"), "-H", "X-User: user" + i).header("X-Backend"));
        }
        assertThat(users).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void shouldSendProxyProtocolV2HeaderFirst() throws Exception
    {
        try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 10, java.net.InetAddress.getByName("127.0.0.1")))
        {
            start(l -> l.proxyProtocol(true).serverGroups(List.of(new ServerGroup("app",
                List.of(new Server("127.0.0.1", raw.getLocalPort(), 100))))));
            final Thread client = Thread.ofPlatform().daemon(true).start(() ->
            {
                try
                {
                    ProxyTests.raw(port, "GET /pp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                }
                catch (final java.io.IOException ignored)
                {
                    // the assertion is on what the backend read
                }
            });
            try (Socket accepted = raw.accept())
            {
                accepted.setSoTimeout(5_000);
                final InputStream in = accepted.getInputStream();
                final byte[] header = in.readNBytes(28);
                assertThat(java.util.Arrays.copyOf(header, 12)).isEqualTo(new byte[]
                    {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
                assertThat(header[12]).isEqualTo((byte)0x21);
                assertThat(header[13]).isEqualTo((byte)0x11);
                assertThat(header[15]).isEqualTo((byte)12);
                assertThat(java.util.Arrays.copyOfRange(header, 16, 20)).isEqualTo(new byte[] {127, 0, 0, 1});
                assertThat(((header[26] & 0xff) << 8) | (header[27] & 0xff)).isEqualTo(port);
                final byte[] request = in.readNBytes(14);
                assertThat(new String(request, StandardCharsets.US_ASCII)).isEqualTo("GET /pp HTTP/1");
                accepted.getOutputStream().write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            client.join(5_000);
        }
    }

    @Test
    void shouldPassAWebSocketUpgradeThrough() throws Exception
    {
        try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 10, java.net.InetAddress.getByName("127.0.0.1")))
        {
            start(l -> l.serverGroups(List.of(new ServerGroup("app", List.of(new Server("127.0.0.1", raw.getLocalPort(), 100))))));
            final Thread backend = Thread.ofPlatform().daemon(true).start(() ->
            {
                try (Socket accepted = raw.accept())
                {
                    final InputStream in = accepted.getInputStream();
                    final String head = readHead(in);
                    if (!head.contains("Upgrade: websocket") && !head.contains("upgrade: websocket"))
                    {
                        return;
                    }
                    final OutputStream out = accepted.getOutputStream();
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    final byte[] ping = in.readNBytes(4);
                    out.write(("echo:" + new String(ping, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    in.read();
                }
                catch (final java.io.IOException ignored)
                {
                    // the client side asserts
                }
            });
            try (Socket socket = new Socket("127.0.0.1", port))
            {
                socket.setSoTimeout(5_000);
                socket.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
                final String head = readHead(socket.getInputStream());
                assertThat(head).startsWith("HTTP/1.1 101");
                assertThat(head.toLowerCase()).contains("upgrade: websocket");
                socket.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(socket.getInputStream().readNBytes(9), StandardCharsets.US_ASCII)).isEqualTo("echo:ping");
            }
            backend.join(5_000);
            assertThat(proxy.counter(LISTENER, L7Counter.UPGRADES)).isEqualTo(1);
        }
    }

    @Test
    void shouldRefuseConnectionsTheAclDeniesAndBeyondMaxConnections() throws Exception
    {
        start(l -> l.acl(new Acl(Acl.Mode.DENY, List.of("127.0.0.0/8"))));
        assertThat(ProxyTests.raw(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).isEmpty();
        assertThat(proxy.counter(LISTENER, L7Counter.ACL_DENIED_DROPS)).isEqualTo(1);
        assertThat(a.seen).isEmpty();
        assertThat(b.seen).isEmpty();

        proxy.apply(new ProxyConfig(List.of(listener().maxConnections(1).build())));
        try (Socket first = new Socket("127.0.0.1", port))
        {
            first.setSoTimeout(5_000);
            assertThat(exchange(first, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")).contains("200");
            assertThat(ProxyTests.raw(port, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")).isEmpty();
        }
        assertThat(proxy.counter(LISTENER, L7Counter.MAX_CONNECTIONS_DROPS)).isEqualTo(1);
    }

    @Test
    void shouldCompressWhenTheClientAcceptsGzip() throws Exception
    {
        start(l -> l.gzip(true));
        final Curl.Result result = Curl.get(url("/big/64"), "-H", "Accept-Encoding: gzip");
        assertThat(result.status()).isEqualTo(200);
        assertThat(result.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(result.body().length()).isLessThan(64 * 1024 / 10);
    }

    @Test
    void shouldWriteAStructuredAccessLog(@org.junit.jupiter.api.io.TempDir final java.nio.file.Path dir) throws Exception
    {
        final java.nio.file.Path log = dir.resolve("access.log");
        proxy = L7Proxy.start(new ProxyConfig(List.of(listener().build()), Transport.EPOLL, 1, 1_000, log, Upstream.DEFAULT),
            ProxyTests.counters());
        assertThat(Curl.get(url("/logged?q=1")).status()).isEqualTo(200);
        ProxyTests.await(() ->
        {
            try
            {
                return java.nio.file.Files.exists(log) && java.nio.file.Files.readString(log).contains("/logged?q=1");
            }
            catch (final java.io.IOException ex)
            {
                return false;
            }
        }, 5_000);
        final String line = java.nio.file.Files.readString(log).strip();
        assertThat(line).startsWith("{\"ts\":").contains("\"listener\":\"web/http\"", "\"client\":\"127.0.0.1\"",
            "\"method\":\"GET\"", "\"status\":200");
    }

    @Test
    void shouldServeCleartextHttp2WithPriorKnowledgeAndHttp1OnTheSamePort() throws Exception
    {
        start(l -> l.http2(true).rules(List.of(new Rule(null, "/api", "api"))));
        final Curl.Result h2 = Curl.get(url("/api/x?y=1"), "--http2-prior-knowledge", "-H", "X-Forwarded-For: 203.0.113.1");
        assertThat(h2.status()).isEqualTo(200);
        assertThat(h2.headers()).startsWith("HTTP/2 200");
        assertThat(h2.body()).isEqualTo("api GET /api/x?y=1 0");
        final TestBackend.Seen seen = api.seen.get(0);
        assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + port);
        assertThat(seen.header("X-Forwarded-For")).isEqualTo("203.0.113.1, 127.0.0.1");
        assertThat(seen.header("x-http2-stream-id")).isNull();

        final Curl.Result post = Curl.get(url("/upload"), "--http2-prior-knowledge", "--data-binary", "x".repeat(100_000));
        assertThat(post.body()).endsWith("POST /upload 100000");
        final Curl.Result big = Curl.get(url("/big/512"), "--http2-prior-knowledge");
        assertThat(big.body()).hasSize(512 * 1024);
        assertThat(Curl.get(url("/h1")).headers()).startsWith("HTTP/1.1 200");
    }

    @Test
    void shouldAnswer504WhenTheBackendIsSilentAnd502WhenItHangsUp() throws Exception
    {
        try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 10, java.net.InetAddress.getByName("127.0.0.1")))
        {
            start(l -> l.timeouts(new Timeouts(15, 1, 10, 1000)).serverGroups(List.of(new ServerGroup("app",
                List.of(new Server("127.0.0.1", raw.getLocalPort(), 100))))));
            final List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
            final Thread acceptor = Thread.ofPlatform().daemon(true).start(() ->
            {
                try
                {
                    // first connection: read the request and say nothing; second: hang up after reading it
                    final Socket silent = raw.accept();
                    accepted.add(silent);
                    final Socket rude = raw.accept();
                    readHead(rude.getInputStream());
                    rude.close();
                }
                catch (final java.io.IOException ignored)
                {
                    // the client side asserts
                }
            });
            assertThat(Curl.get(url("/silent")).status()).isEqualTo(504);
            assertThat(proxy.counter(LISTENER, L7Counter.REQUEST_TIMEOUTS)).isEqualTo(1);
            assertThat(Curl.get(url("/rude"), "-X", "POST", "-d", "x").status()).isEqualTo(502);
            assertThat(proxy.counter(LISTENER, L7Counter.BACKEND_ERRORS)).isEqualTo(1);
            acceptor.join(5_000);
            for (final Socket socket : accepted)
            {
                socket.close();
            }
        }
    }

    @Test
    void shouldFinishAnInFlightRequestWhenClosingGracefully() throws Exception
    {
        try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 10, java.net.InetAddress.getByName("127.0.0.1")))
        {
            start(l -> l.serverGroups(List.of(new ServerGroup("app", List.of(new Server("127.0.0.1", raw.getLocalPort(), 100))))));
            try (Socket client = new Socket("127.0.0.1", port))
            {
                client.setSoTimeout(5_000);
                client.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                try (Socket backend = raw.accept())
                {
                    readHead(backend.getInputStream());
                    final L7Proxy closing = proxy;
                    proxy = null;
                    final Thread closer = Thread.ofPlatform().start(closing::close);
                    ProxyTests.await(() ->
                    {
                        try (Socket probe = new Socket("127.0.0.1", port))
                        {
                            return !probe.isConnected();
                        }
                        catch (final java.io.IOException refused)
                        {
                            return true;
                        }
                    }, 5_000);
                    backend.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    final String answer = ProxyTests.readAll(client.getInputStream());
                    // the response completes; then the proxy closes the drained connection (EOF, not a read timeout)
                    assertThat(answer).startsWith("HTTP/1.1 200 OK").endsWith("ok");
                    assertThat(client.getInputStream().read()).isEqualTo(-1);
                    closer.join(10_000);
                    assertThat(closer.isAlive()).isFalse();
                }
            }
        }
    }

    @Test
    void shouldSpeakHttp2ToAGroupThatAsksAndCarryTrailersBack() throws Exception
    {
        try (H2Backend grpc = new H2Backend())
        {
            start(l -> l.http2(true).serverGroups(List.of(new ServerGroup("app",
                List.of(new Server("127.0.0.1", grpc.port(), 100)), true))));
            // an HTTP/1.1 client: trailers come back in the chunked encoding
            try (Socket socket = new Socket("127.0.0.1", port))
            {
                socket.setSoTimeout(5_000);
                socket.getOutputStream().write(("POST /pkg.Service/Call HTTP/1.1\r\nHost: grpc.example.com\r\nTE: trailers\r\n" +
                    "Content-Type: application/grpc\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                    .getBytes(StandardCharsets.US_ASCII));
                final String answer = ProxyTests.readAll(socket.getInputStream());
                assertThat(answer).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked")
                    .contains("h2 body 5").contains("grpc-status: 0").doesNotContain("x-http2");
            }
            final H2Backend.Seen seen = grpc.seen.get(0);
            assertThat(seen.bodyBytes()).isEqualTo(5);
            assertThat(seen.headers().path().toString()).isEqualTo("/pkg.Service/Call");
            assertThat(seen.headers().authority().toString()).isEqualTo("grpc.example.com");
            assertThat(seen.headers().get("te").toString()).isEqualTo("trailers");
            assertThat(seen.headers().get("x-forwarded-for").toString()).isEqualTo("127.0.0.1");

            // an HTTP/2 client (prior knowledge) through to the HTTP/2 backend, several requests on pooled streams
            for (int i = 0; i < 3; i++)
            {
                final Curl.Result h2 = Curl.get(url("/pkg.Service/Other"), "--http2-prior-knowledge", "--data-binary", "abc");
                assertThat(h2.headers()).startsWith("HTTP/2 200");
                assertThat(h2.body()).startsWith("h2 body 3");
            }
            assertThat(grpc.seen).hasSize(4);
            assertThat(proxy.counter(LISTENER, L7Counter.BACKEND_CONNECTS)).isEqualTo(0);
        }
    }

    @Test
    void shouldRefuseToStartWhenTheVipPortIsTaken() throws Exception
    {
        start(l -> l);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> L7Proxy.start(new ProxyConfig(List.of(listener().build())),
            ProxyTests.counters())).isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot bind web/http");
    }

    @Test
    void shouldHandleHeadHttp10PipeliningAndExpectContinue() throws Exception
    {
        start(l -> l.serverGroups(List.of(new ServerGroup("app", List.of(a.asServer(100))))));
        final Curl.Result head = Curl.get(url("/head"), "-I");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();

        final String http10 = ProxyTests.raw(port, "GET /old HTTP/1.0\r\n\r\n");
        assertThat(http10).startsWith("HTTP/1.1 200").contains("connection: close").endsWith("a GET /old 0");
        // a body without a length reaches an HTTP/1.0 client close-delimited, never chunked
        final String stream10 = ProxyTests.raw(port, "GET /big/3 HTTP/1.0\r\n\r\n");
        assertThat(stream10).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("transfer-encoding")
            .endsWith("x".repeat(3 * 1024));

        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(("GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /p2 HTTP/1.1\r\nHost: x\r\n" +
                "Content-Length: 3\r\n\r\nabcGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            final String answers = ProxyTests.readAll(socket.getInputStream());
            final int first = answers.indexOf("a GET /p1 0");
            final int second = answers.indexOf("a POST /p2 3");
            final int third = answers.indexOf("a GET /p3 0");
            assertThat(first).isNotNegative();
            assertThat(second).isGreaterThan(first);
            assertThat(third).isGreaterThan(second);
        }

        final Curl.Result expect = Curl.get(url("/expect"), "-H", "Expect: 100-continue", "--data-binary", "y".repeat(5000));
        assertThat(expect.status()).as(expect.headers() + "||" + expect.body()).isEqualTo(200);
        assertThat(expect.body()).isEqualTo("a POST /expect 5000");
    }

    @Test
    void shouldNotBufferAResponseAClientDoesNotRead() throws Exception
    {
        start(l -> l.serverGroups(List.of(new ServerGroup("app", List.of(a.asServer(100))))));
        final io.netty.buffer.ByteBufAllocatorMetric metric =
            ((io.netty.buffer.ByteBufAllocatorMetricProvider)io.netty.buffer.ByteBufAllocator.DEFAULT).metric();
        final long mib = 1 << 20;
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(10_000);
            socket.setReceiveBufferSize(64 * 1024);
            socket.getOutputStream().write("GET /big/65536 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final InputStream in = socket.getInputStream();
            in.readNBytes(1024);
            // the client stops reading: kernel buffers fill, then the proxy must stop reading the backend
            Thread.sleep(500);
            final long heldWhileStalled = metric.usedHeapMemory() + metric.usedDirectMemory();
            assertThat(heldWhileStalled).isLessThan(16 * mib);
            long total = 1024;
            final byte[] buf = new byte[65_536];
            int n;
            while (total < 64 * mib && (n = in.read(buf)) > 0)
            {
                total += n;
            }
            assertThat(total).isGreaterThanOrEqualTo(64 * mib);
        }
    }

    @Test
    void shouldCloseAKeepAliveConnectionIdleForIdleTimeoutSeconds() throws Exception
    {
        start(l -> l.timeouts(new Timeouts(1, 60, 10, 1000)));
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(5_000);
            assertThat(exchange(socket, "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
            // the proxy closes it (EOF) well before the 5 s read timeout
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
    }

    static String exchange(final Socket socket, final String request) throws java.io.IOException
    {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        final InputStream in = socket.getInputStream();
        final String head = readHead(in);
        final int lengthAt = head.toLowerCase().indexOf("content-length:");
        int length = 0;
        if (lengthAt >= 0)
        {
            final int end = head.indexOf("\r\n", lengthAt);
            length = Integer.parseInt(head.substring(lengthAt + 15, end < 0 ? head.length() : end).trim());
        }
        return head + new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    }

    static String readHead(final InputStream in) throws java.io.IOException
    {
        final StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0)
        {
            head.append((char)c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n"))
            {
                break;
            }
        }
        return head.toString();
    }
}
