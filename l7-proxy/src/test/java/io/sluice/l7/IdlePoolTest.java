package io.sluice.l7;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The idle upstream pool holds only live connections: a backend's close and the idle timeout take them out at once. */
class IdlePoolTest
{
    private static final String LISTENER = "web/http";

    private L7Proxy proxy;

    @AfterEach
    void tearDown()
    {
        if (proxy != null)
        {
            proxy.close();
        }
    }

    @Test
    void shouldPruneAPooledConnectionTheBackendCloses() throws Exception
    {
        try (ServerSocket backend = new ServerSocket(0, 8, InetAddress.getLoopbackAddress()))
        {
            final CountDownLatch hangUp = new CountDownLatch(1);
            final Thread server = Thread.ofPlatform().daemon().start(() -> serveOneThenHangUp(backend, hangUp));
            final int port = ProxyTests.freePort();
            final String serverKey = "127.0.0.1:" + backend.getLocalPort();
            proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port).serverGroup("app")
                .serverGroups(List.of(new ServerGroup("app", List.of(new Server("127.0.0.1", backend.getLocalPort(), 100)))))
                .build())), ProxyTests.counters());

            assertThat(ProxyTests.raw(port, "GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
            ProxyTests.await(() -> proxy.idleConnections(LISTENER, serverKey) == 1, 5_000);

            hangUp.countDown();
            ProxyTests.await(() -> proxy.idleConnections(LISTENER, serverKey) == 0, 5_000);
            server.join(5_000);
        }
    }

    @Test
    void shouldCloseAndPruneAPooledConnectionIdleForTheIdleTimeout() throws Exception
    {
        try (TestBackend backend = new TestBackend("a"))
        {
            final int port = ProxyTests.freePort();
            final Server server = backend.asServer(100);
            proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port).serverGroup("app")
                .serverGroups(List.of(new ServerGroup("app", List.of(server))))
                .timeouts(new Timeouts(1, 60, 10, 1000))
                .build())), ProxyTests.counters());

            assertThat(ProxyTests.raw(port, "GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
            ProxyTests.await(() -> proxy.idleConnections(LISTENER, server.key()) == 1, 5_000);
            // idleTimeoutSeconds 1: the reader-idle timer closes it, the close takes it out of the pool
            ProxyTests.await(() -> proxy.idleConnections(LISTENER, server.key()) == 0, 5_000);
        }
    }

    /** Answers one request on one connection with keep-alive, then hangs up when told. */
    private static void serveOneThenHangUp(final ServerSocket backend, final CountDownLatch hangUp)
    {
        try (Socket socket = backend.accept())
        {
            final InputStream in = socket.getInputStream();
            L7ProxyTest.readHead(in);
            final OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            hangUp.await(10, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            // the test's assertions tell what went wrong
        }
    }
}
