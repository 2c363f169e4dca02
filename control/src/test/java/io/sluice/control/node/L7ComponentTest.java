package io.sluice.control.node;

import com.sun.net.httpserver.HttpServer;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.health.HealthChecker;
import io.sluice.l7.Transport;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.ConcurrentCountersManager;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The L7 component over a real proxy and real health probes on loopback. */
class L7ComponentTest
{
    @TempDir
    Path dir;

    @Test
    void shouldStartANewProxyWithTheServersTheHealthCheckerAlreadyHoldsDown() throws Exception
    {
        final CountersManager counters = counters();
        // both servers accept connections (the proxy would skip one that refuses them by itself): the failing one
        // answers 503, which only its health check judges
        final HttpServer up = server(200);
        final HttpServer failing = server(503);
        final int downPort = failing.getAddress().getPort();
        final int listenerPort = freePort();
        final SluiceConfig config = ConfigLoader.parse("""
            apiVersion: sluice/v1
            node: {name: tl, stateDir: %s, accessLog: false}
            loadBalancers:
              - name: web
                vip: 127.0.0.1
                listeners:
                  - {protocol: http, port: %d, serverGroup: app, scheduler: rr,
                     healthCheck: {type: http, path: /, intervalSeconds: 1, timeoutSeconds: 1, unhealthyThreshold: 1}}
                serverGroups: [{name: app, servers: [{address: 127.0.0.1, port: %d}, {address: 127.0.0.1, port: %d}]}]
            """.formatted(dir.resolve("state"), listenerPort, downPort, up.getAddress().getPort()), "test");
        final SluiceConfig nothing = config.withLoadBalancers(List.of());
        final LoadBalancer lb = config.loadBalancers().getFirst();
        final String listenerName = lb.listenerName(lb.listeners().getFirst());
        final HealthChecker.Key downKey = new HealthChecker.Key("web", "http:" + listenerPort, "127.0.0.1:" + downPort);
        final HealthChecker health = new HealthChecker(counters, (key, isUp) ->
        {
        });
        final L7Component l7 = new L7Component(counters, PerfProfile.load("shared", null), 1, dir.resolve("access.log"), health);
        try
        {
            health.apply(nothing, config);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (health.isUp(downKey))
            {
                assertThat(System.nanoTime()).as("the dead server probed down").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(downKey.listenerName()).isEqualTo(listenerName);

            // the proxy starts after the transition (no StateListener call reaches it): apply must tell it
            l7.apply(nothing, config);

            final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            for (int i = 0; i < 6; i++)
            {
                final HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + listenerPort + "/")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
            }
            assertThat(l7.proxy().serverRequests(listenerName, "127.0.0.1:" + downPort)).isZero();
            assertThat(l7.proxy().serverRequests(listenerName, "127.0.0.1:" + up.getAddress().getPort())).isEqualTo(6);
        }
        finally
        {
            l7.close();
            health.close();
            up.stop(0);
            failing.stop(0);
        }
    }

    @Test
    void shouldHandTheProxyTheListenersGzipLoadBalancerHeadersAndBodyRateWindow() throws Exception
    {
        final SluiceConfig config = ConfigLoader.parse("""
            apiVersion: sluice/v1
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
                  - {protocol: http, port: 80, serverGroup: app}
                  - {protocol: http, port: 81, serverGroup: app, gzip: true, loadBalancerHeaders: true,
                     minBodyRateBytesPerSecond: 100, minBodyRateWindowSeconds: 30}
                serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]
            """, "test");
        final LoadBalancer lb = config.loadBalancers().getFirst();
        final io.sluice.l7.HttpListener plain = L7Component.listener(lb, lb.listeners().get(0), null);
        assertThat(plain.gzip()).isFalse();
        assertThat(plain.loadBalancerHeaders()).isFalse();
        assertThat(plain.minBodyRate()).isEqualTo(io.sluice.l7.BodyRate.DEFAULT);
        final io.sluice.l7.HttpListener tuned = L7Component.listener(lb, lb.listeners().get(1), null);
        assertThat(tuned.gzip()).isTrue();
        assertThat(tuned.loadBalancerHeaders()).isTrue();
        assertThat(tuned.loadBalancerName()).isEqualTo("web");
        assertThat(tuned.minBodyRate()).isEqualTo(new io.sluice.l7.BodyRate(100, 30));
    }

    @Test
    void shouldServeOnTheTransportTheProfileNames() throws Exception
    {
        final CountersManager counters = counters();
        final HttpServer up = server(200);
        final int listenerPort = freePort();
        final SluiceConfig config = ConfigLoader.parse("""
            apiVersion: sluice/v1
            node: {name: tl, stateDir: %s, accessLog: false}
            loadBalancers:
              - name: web
                vip: 127.0.0.1
                listeners:
                  - {protocol: http, port: %d, serverGroup: app, scheduler: rr}
                serverGroups: [{name: app, servers: [{address: 127.0.0.1, port: %d}]}]
            """.formatted(dir.resolve("state"), listenerPort, up.getAddress().getPort()), "test");
        final Properties epoll = new Properties();
        epoll.setProperty("l7.transport", "epoll");
        final HealthChecker health = new HealthChecker(counters, (key, isUp) ->
        {
        });
        final L7Component l7 = new L7Component(counters, PerfProfile.parse("shared", epoll, "test"), 1,
            dir.resolve("access.log"), health);
        try
        {
            l7.apply(config.withLoadBalancers(List.of()), config);
            assertThat(l7.proxy().transport()).isEqualTo(Transport.EPOLL);
            final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + listenerPort + "/")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("ok");
        }
        finally
        {
            l7.close();
            health.close();
            up.stop(0);
        }
    }

    private static CountersManager counters()
    {
        return new ConcurrentCountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return b.getLocalPort();
        }
    }

    private static HttpServer server(final int status) throws IOException
    {
        final HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", exchange ->
        {
            exchange.sendResponseHeaders(status, 2);
            exchange.getResponseBody().write("ok".getBytes(StandardCharsets.US_ASCII));
            exchange.close();
        });
        server.start();
        return server;
    }
}
