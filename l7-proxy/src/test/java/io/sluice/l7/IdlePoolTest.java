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

    @Test
    void shouldRetryAGetTheReusedConnectionDroppedAndKeepTheNewConnectionUsable() throws Exception
    {
        try (ServerSocket backend = new ServerSocket(0, 8, InetAddress.getLoopbackAddress()))
        {
            final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
            final Thread server = Thread.ofPlatform().daemon().start(() -> serveDroppingTheSecondRequest(backend, connections));
            final int port = ProxyTests.freePort();
            proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port).serverGroup("app")
                .serverGroups(List.of(new ServerGroup("app", List.of(new Server("127.0.0.1", backend.getLocalPort(), 100)))))
                .build())), ProxyTests.counters());
            try (Socket client = new Socket("127.0.0.1", port))
            {
                client.setSoTimeout(5_000);
                // 1: a new connection, pooled afterwards; 2: the pooled one is dropped unanswered, retried on a new one;
                // 3: that new connection, reused, must still frame requests (its encoder saw the end of request 2)
                for (int i = 1; i <= 3; i++)
                {
                    assertThat(L7ProxyTest.exchange(client, "GET /r" + i + " HTTP/1.1\r\nHost: x\r\n\r\n"))
                        .as("request " + i).startsWith("HTTP/1.1 200").endsWith("r" + i);
                }
            }
            assertThat(proxy.counter(LISTENER, L7Counter.RETRIES)).isEqualTo(1);
            assertThat(connections.get()).isEqualTo(2);
            backend.close();
            server.join(5_000);
        }
    }

    /** First connection: answers one request, then closes when the next arrives; later connections answer everything. */
    private static void serveDroppingTheSecondRequest(final ServerSocket backend,
        final java.util.concurrent.atomic.AtomicInteger connections)
    {
        try
        {
            while (true)
            {
                final Socket socket = backend.accept();
                final boolean first = connections.incrementAndGet() == 1;
                Thread.ofPlatform().daemon().start(() ->
                {
                    try (socket)
                    {
                        final InputStream in = socket.getInputStream();
                        for (int served = 0; ; served++)
                        {
                            final String head = L7ProxyTest.readHead(in);
                            if (head.isEmpty() || (first && served == 1))
                            {
                                return;
                            }
                            final String path = head.substring(head.indexOf(' ') + 2, head.indexOf(' ', head.indexOf(' ') + 1));
                            socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\n\r\n" + path)
                                .getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                    catch (final Exception ex)
                    {
                        // the proxy or the test closed it
                    }
                });
            }
        }
        catch (final Exception ex)
        {
            // the test closed the listening socket
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
