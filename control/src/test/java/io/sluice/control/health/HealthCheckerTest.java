package io.sluice.control.health;

import com.sun.net.httpserver.HttpServer;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.SluiceConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Real probes against real servers on loopback: down after the unhealthy threshold, up again after the healthy one. */
class HealthCheckerTest
{
    private final Map<HealthChecker.Key, Boolean> notified = new ConcurrentHashMap<>();
    private final HealthChecker checker = new HealthChecker(
        new CountersManager(new UnsafeBuffer(new byte[1 << 16]), new UnsafeBuffer(new byte[1 << 14])),
        (key, up) -> notified.put(key, up));

    @AfterEach
    void close()
    {
        checker.close();
    }

    private static SluiceConfig config(final String protocol, final int port, final String check)
    {
        return ConfigLoader.parse("""
            apiVersion: sluice/v1
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners: [{protocol: %s, port: 80, serverGroup: app, healthCheck: %s}]
                serverGroups: [{name: app, servers: [{address: 127.0.0.1, port: %d}]}]
            """.formatted(protocol, check, port), "test");
    }

    private void apply(final SluiceConfig config)
    {
        checker.apply(config.withLoadBalancers(List.of()), config);
    }

    @Test
    void shouldNameATargetByItsListenersNodeWideName()
    {
        final SluiceConfig config = config("http", 8080, "{}");
        final var lb = config.loadBalancers().getFirst();
        final HealthChecker.Key key = new HealthChecker.Key("web", "http:80", "127.0.0.1:8080");

        assertThat(key.listenerName()).isEqualTo(lb.listenerName(lb.listeners().getFirst())).isEqualTo("web/http:80");
        assertThat(key).hasToString("web/http:80 → 127.0.0.1:8080");
    }

    @Test
    void shouldMarkATcpServerDownWhenItStopsAndUpWhenItReturns() throws Exception
    {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final int port = server.getLocalPort();
        apply(config("tcp", port, "{intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 2, unhealthyThreshold: 2}"));
        final HealthChecker.Key key = new HealthChecker.Key("web", "tcp:80", "127.0.0.1:" + port);
        assertThat(checker.isUp(key)).isTrue();

        server.close();
        await(() -> Boolean.FALSE.equals(notified.get(key)), 10);
        assertThat(checker.states().getFirst().lastError()).contains("Connection refused");

        server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        try
        {
            await(() -> Boolean.TRUE.equals(notified.get(key)), 10);
            assertThat(checker.isUp(key)).isTrue();
        }
        finally
        {
            server.close();
        }
    }

    @Test
    void shouldJudgeHttpByExpectedStatusClasses() throws Exception
    {
        final HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        final int[] status = {200};
        http.createContext("/health", exchange ->
        {
            exchange.sendResponseHeaders(status[0], -1);
            exchange.close();
        });
        http.start();
        try
        {
            final int port = http.getAddress().getPort();
            apply(config("http", port, "{type: http, path: /health, intervalSeconds: 1, timeoutSeconds: 2, healthyThreshold: 1, "
                + "unhealthyThreshold: 1, expectedCodes: [http_2xx]}"));
            final HealthChecker.Key key = new HealthChecker.Key("web", "http:80", "127.0.0.1:" + port);
            status[0] = 503;
            await(() -> Boolean.FALSE.equals(notified.get(key)), 10);
            assertThat(checker.states().getFirst().lastError()).isEqualTo("status 503 is not in [http_2xx]");
            status[0] = 204;
            await(() -> Boolean.TRUE.equals(notified.get(key)), 10);
        }
        finally
        {
            http.stop(0);
        }
    }

    @Test
    void shouldTakeAnIcmpUnreachableAsADownUdpServer() throws Exception
    {
        final int port;
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress()))
        {
            port = probe.getLocalPort();
        }
        apply(config("udp", port, "{intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 1, unhealthyThreshold: 1}"));
        final HealthChecker.Key key = new HealthChecker.Key("web", "udp:80", "127.0.0.1:" + port);
        await(() -> Boolean.FALSE.equals(notified.get(key)), 10);
        assertThat(checker.states().getFirst().lastError()).isEqualTo("ICMP port unreachable");

        try (DatagramSocket echo = new DatagramSocket(port, InetAddress.getLoopbackAddress()))
        {
            final Thread responder = Thread.ofVirtual().start(() -> echo(echo));
            await(() -> Boolean.TRUE.equals(notified.get(key)), 10);
            responder.interrupt();
        }
    }

    @Test
    void shouldStopCheckingServersTheConfigNoLongerNames() throws IOException
    {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()))
        {
            final SluiceConfig config = config("tcp", server.getLocalPort(), "{intervalSeconds: 1}");
            apply(config);
            assertThat(checker.states()).hasSize(1);
            checker.apply(config, config.withLoadBalancers(List.of()));
            assertThat(checker.states()).isEmpty();
        }
    }

    private static void echo(final DatagramSocket socket)
    {
        final byte[] buffer = new byte[512];
        while (!socket.isClosed())
        {
            try
            {
                final DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                socket.send(new DatagramPacket(packet.getData(), packet.getLength(), packet.getSocketAddress()));
            }
            catch (final IOException ex)
            {
                return;
            }
        }
    }

    private static void await(final BooleanSupplier condition, final int seconds)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within " + seconds + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
