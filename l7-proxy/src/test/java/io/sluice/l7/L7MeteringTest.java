package io.sluice.l7;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Per-listener metering: the bytes that crossed the client socket each way and the requests, as counters. */
class L7MeteringTest
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
    void shouldCountExactlyTheBytesEachWayAndTheRequests() throws Exception
    {
        try (TestBackend backend = new TestBackend("a"))
        {
            final int port = ProxyTests.freePort();
            proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port).serverGroup("app")
                .serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100))))).build())), ProxyTests.counters());

            long sent = 0;
            long received = 0;
            for (int i = 0; i < 3; i++)
            {
                final String request = "GET /metered/" + i + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                final String answer = ProxyTests.raw(port, request);
                assertThat(answer).startsWith("HTTP/1.1 200");
                sent += request.getBytes(StandardCharsets.ISO_8859_1).length;
                received += answer.getBytes(StandardCharsets.ISO_8859_1).length;
            }
            final long expectedOut = received;
            final long expectedIn = sent;
            ProxyTests.await(() -> proxy.counter(LISTENER, L7Counter.BYTES_OUT) == expectedOut &&
                proxy.counter(LISTENER, L7Counter.BYTES_IN) == expectedIn, 5_000);
            assertThat(proxy.counter(LISTENER, L7Counter.REQUESTS)).isEqualTo(3);
        }
    }
}
