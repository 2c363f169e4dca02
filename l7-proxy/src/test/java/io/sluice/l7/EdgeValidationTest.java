package io.sluice.l7;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every bad-request class gets its status and a closed connection, and nothing reaches the backend. Raw sockets, since
 * real clients refuse to send most of these.
 */
class EdgeValidationTest
{
    private static final String LISTENER = "edge";
    private static TestBackend backend;
    private static L7Proxy proxy;
    private static int port;

    @BeforeAll
    static void start() throws Exception
    {
        backend = new TestBackend("edge");
        port = ProxyTests.freePort();
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port)
            .serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
            .maxHeaderBytes(4096)
            .maxBodyBytes(1000)
            .timeouts(new Timeouts(15, 60, 1, 1000))
            .build())), ProxyTests.counters());
    }

    @AfterAll
    static void stop()
    {
        proxy.close();
        backend.close();
    }

    static Stream<Arguments> badRequests()
    {
        final String bigHeader = "X-Big: " + "a".repeat(5000) + "\r\n";
        return Stream.of(
            Arguments.of("malformed request line", "GET/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            Arguments.of("garbage version", "GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400),
            Arguments.of("space in header name", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400),
            Arguments.of("control character in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n", 400),
            Arguments.of("content-length and transfer-encoding",
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            Arguments.of("transfer-encoding other than chunked",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400),
            Arguments.of("obfuscated transfer-encoding",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
            Arguments.of("two different content-lengths",
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
            Arguments.of("missing host", "GET / HTTP/1.1\r\n\r\n", 400),
            Arguments.of("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            Arguments.of("bad chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
            Arguments.of("oversize headers", "GET / HTTP/1.1\r\nHost: x\r\n" + bigHeader + "\r\n", 431),
            Arguments.of("declared body over the limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413),
            Arguments.of("chunked body over the limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                "400\r\n" + "b".repeat(1024) + "\r\n0\r\n\r\n", 413));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("badRequests")
    void shouldAnswerAndCloseWithoutForwarding(final String description, final String request, final int status) throws Exception
    {
        final int before = backend.seen.size();
        final String answer = ProxyTests.raw(port, request);
        assertThat(answer).as(description).startsWith("HTTP/1.1 " + status + " ");
        assertThat(answer.toLowerCase()).contains("connection: close");
        if (status != 413 || !request.contains("chunked"))
        {
            assertThat(backend.seen.size()).as("backend saw " + description).isEqualTo(before);
        }
    }

    @Test
    void shouldCountAClientThatClosesMidHeadAsClosedNotAsABadRequest() throws Exception
    {
        final int before = backend.seen.size();
        final long badRequests = proxy.counter(LISTENER, L7Counter.BAD_REQUEST_DROPS);
        final long requests = proxy.counter(LISTENER, L7Counter.REQUESTS);
        final long closed = proxy.counter(LISTENER, L7Counter.CLIENT_CLOSED_DROPS);
        try (Socket client = new Socket("127.0.0.1", port))
        {
            client.getOutputStream().write("GET /half HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
        }
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (proxy.counter(LISTENER, L7Counter.CLIENT_CLOSED_DROPS) == closed && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertThat(proxy.counter(LISTENER, L7Counter.CLIENT_CLOSED_DROPS)).isEqualTo(closed + 1);
        assertThat(proxy.counter(LISTENER, L7Counter.BAD_REQUEST_DROPS)).isEqualTo(badRequests);
        assertThat(proxy.counter(LISTENER, L7Counter.REQUESTS)).isEqualTo(requests);
        assertThat(backend.seen.size()).isEqualTo(before);
    }

    @Test
    void shouldCountAClientThatClosesMidBodyAsClosedNotAsABadRequest() throws Exception
    {
        final long badRequests = proxy.counter(LISTENER, L7Counter.BAD_REQUEST_DROPS);
        final long closed = proxy.counter(LISTENER, L7Counter.CLIENT_CLOSED_DROPS);
        try (Socket client = new Socket("127.0.0.1", port))
        {
            client.getOutputStream().write("POST /half HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"
                .getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            Thread.sleep(200);
        }
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (proxy.counter(LISTENER, L7Counter.CLIENT_CLOSED_DROPS) == closed && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertThat(proxy.counter(LISTENER, L7Counter.CLIENT_CLOSED_DROPS)).isEqualTo(closed + 1);
        assertThat(proxy.counter(LISTENER, L7Counter.BAD_REQUEST_DROPS)).isEqualTo(badRequests);
    }

    @Test
    void shouldNotLetASmuggledSecondRequestReachTheBackend() throws Exception
    {
        final int before = backend.seen.size();
        final String answer = ProxyTests.raw(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 400 ");
        assertThat(answer).doesNotContain("/admin");
        assertThat(backend.seen.size()).isEqualTo(before);
        assertThat(proxy.counter(LISTENER, L7Counter.SMUGGLING_DROPS)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void shouldTimeOutASlowHeaderWith408WhileServingANormalClient() throws Exception
    {
        final int before = backend.seen.size();
        try (Socket slow = new Socket("127.0.0.1", port))
        {
            slow.setSoTimeout(5_000);
            final OutputStream out = slow.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // a normal client is served while the slow one dribbles its head
            final Curl.Result normal = Curl.get("http://127.0.0.1:" + port + "/normal");
            assertThat(normal.status()).isEqualTo(200);
            for (int i = 0; i < 3; i++)
            {
                try
                {
                    out.write("X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                catch (final java.io.IOException closed)
                {
                    break;
                }
                Thread.sleep(400);
            }
            final InputStream in = slow.getInputStream();
            final String answer = ProxyTests.readAll(in);
            assertThat(answer).startsWith("HTTP/1.1 408 ");
        }
        assertThat(backend.seen.size()).isEqualTo(before + 1);
        assertThat(proxy.counter(LISTENER, L7Counter.HEADER_TIMEOUT_DROPS)).isGreaterThanOrEqualTo(1);
    }
}
