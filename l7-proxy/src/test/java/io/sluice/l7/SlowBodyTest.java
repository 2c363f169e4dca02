package io.sluice.l7;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The body-rate floor: a body trickling in below it gets 408; one at or above it streams through whole. */
class SlowBodyTest
{
    private static final String LISTENER = "web/http";

    private TestBackend backend;
    private L7Proxy proxy;
    private int port;

    @BeforeEach
    void start() throws Exception
    {
        backend = new TestBackend("a");
        port = ProxyTests.freePort();
        // 1000 B/s measured over 1 s windows; request timeout far away so only the rate can cut a body
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port).serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
            .timeouts(new Timeouts(60, 180, 10, 1000))
            .minBodyRate(new BodyRate(1000, 1))
            .build())), ProxyTests.counters());
    }

    @AfterEach
    void stop()
    {
        proxy.close();
        backend.close();
    }

    @Test
    void shouldAnswer408ToABodyArrivingBelowTheMinimumRate() throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(10_000);
            final OutputStream out = socket.getOutputStream();
            out.write("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // 10 bytes every 200 ms: 50 B/s, far below the floor; stop once the proxy has answered and closed
            final Thread trickle = Thread.ofPlatform().daemon().start(() ->
            {
                try
                {
                    for (int i = 0; i < 100; i++)
                    {
                        out.write("0123456789".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                    }
                }
                catch (final java.io.IOException ex)
                {
                    // the proxy closed the connection: expected
                }
            });
            final String answer = L7ProxyTest.readHead(socket.getInputStream());
            trickle.interrupt();
            assertThat(answer).startsWith("HTTP/1.1 408").containsIgnoringCase("connection: close");
        }
        assertThat(proxy.counter(LISTENER, L7Counter.SLOW_BODY_DROPS)).isEqualTo(1);
        assertThat(proxy.counter(LISTENER, L7Counter.HEADER_TIMEOUT_DROPS)).isEqualTo(1);
    }

    @Test
    void shouldStreamABodyArrivingAboveTheMinimumRate() throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(10_000);
            final OutputStream out = socket.getOutputStream();
            final int pieces = 12;
            out.write(("POST /steady HTTP/1.1\r\nHost: x\r\nContent-Length: " + pieces * 1000 + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            // 1000 bytes every 250 ms for 3 s: 4000 B/s, over several 1 s windows
            final byte[] piece = new byte[1000];
            java.util.Arrays.fill(piece, (byte)'p');
            for (int i = 0; i < pieces; i++)
            {
                out.write(piece);
                out.flush();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
            }
            final InputStream in = socket.getInputStream();
            final String head = L7ProxyTest.readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200");
        }
        assertThat(proxy.counter(LISTENER, L7Counter.SLOW_BODY_DROPS)).isZero();
        assertThat(backend.seen).hasSize(1);
        assertThat(backend.seen.get(0).body()).hasSize(12_000);
    }
}
