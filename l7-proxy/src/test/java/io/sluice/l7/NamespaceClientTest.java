package io.sluice.l7;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real clients in their own network namespace (prefix l7 + pid) reach the proxy on a VIP: X-Forwarded-For carries the
 * namespace's address, and slowloris / slow-body clients (Debian slowhttptest) do not deny service to a normal client.
 */
class NamespaceClientTest
{
    private static final String LISTENER = "ns/http";
    private static Netns netns;
    private static TestBackend a;
    private static TestBackend b;
    private static L7Proxy proxy;
    private static String base;

    @BeforeAll
    static void start() throws Exception
    {
        netns = new Netns();
        a = new TestBackend("a");
        b = new TestBackend("b");
        final int port = ProxyTests.freePort();
        proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, netns.hostAddress, port)
            .serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(a.asServer(100), b.asServer(100)))))
            .rules(List.of(new Rule("b.example.com", "/", "b"), new Rule(null, "/b/", "b")))
            .serverGroups(List.of(new ServerGroup("app", List.of(a.asServer(100))), new ServerGroup("b", List.of(b.asServer(100)))))
            .timeouts(new Timeouts(15, 3, 2, 1_000))
            .http2(true)
            .build())), ProxyTests.counters());
        base = "http://" + netns.hostAddress + ":" + port;
    }

    @AfterAll
    static void stop() throws Exception
    {
        try
        {
            if (proxy != null)
            {
                proxy.close();
            }
            if (a != null)
            {
                a.close();
            }
            if (b != null)
            {
                b.close();
            }
        }
        finally
        {
            netns.close();
        }
    }

    @Test
    void shouldCarryTheClientNamespaceAddressInForwardedHeaders() throws Exception
    {
        final Curl.Result result = Curl.run(netns.name, base + "/xff");
        assertThat(result.status()).isEqualTo(200);
        final TestBackend.Seen seen = a.seen.get(a.seen.size() - 1);
        assertThat(seen.header("X-Forwarded-For")).isEqualTo(netns.clientAddress);
        assertThat(seen.header("X-Real-IP")).isEqualTo(netns.clientAddress);
    }

    @Test
    void shouldRouteByHostAndPathFromARealClient() throws Exception
    {
        assertThat(Curl.run(netns.name, base + "/x", "-H", "Host: b.example.com").header("X-Backend")).isEqualTo("b");
        assertThat(Curl.run(netns.name, base + "/b/x").header("X-Backend")).isEqualTo("b");
        assertThat(Curl.run(netns.name, base + "/x").header("X-Backend")).isEqualTo("a");
    }

    @Test
    void shouldServeBoundedWrkAndH2loadRunsWithoutErrors() throws Exception
    {
        final String wrk = netns.exec(30, "wrk", "-t1", "-c8", "-d2s", base + "/wrk");
        assertThat(wrk).contains("requests in").doesNotContain("Non-2xx").doesNotContain("Socket errors");
        final String h2load = netns.exec(30, "h2load", "-n", "2000", "-c", "4", "-m", "16", base + "/h2load");
        assertThat(h2load).contains("2000 succeeded, 0 failed, 0 errored");
    }

    @Test
    void shouldServeANormalClientDuringSlowHeaderAndSlowBodyAttacks() throws Exception
    {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/slowhttptest")),
            "Debian package slowhttptest is not installed (apt-get install slowhttptest)");
        final Process slowHeaders = netns.start("slowhttptest", "-H", "-c", "200", "-r", "100", "-i", "1", "-x", "8", "-l", "8",
            "-p", "3", "-u", base + "/slow");
        final Process slowBody = netns.start("slowhttptest", "-B", "-c", "100", "-r", "100", "-i", "1", "-x", "8", "-s", "100000",
            "-l", "8", "-p", "3", "-u", base + "/slowbody");
        try
        {
            ProxyTests.await(() -> proxy.counter(LISTENER, L7Counter.CONNECTIONS_ACTIVE) >= 50, 10_000);
            for (int i = 0; i < 10; i++)
            {
                final Curl.Result result = Curl.run(netns.name, base + "/normal" + i);
                assertThat(result.status()).isEqualTo(200);
                Thread.sleep(300);
            }
        }
        finally
        {
            slowHeaders.destroy();
            slowBody.destroy();
            slowHeaders.waitFor(5, TimeUnit.SECONDS);
            slowBody.waitFor(5, TimeUnit.SECONDS);
        }
        assertThat(proxy.counter(LISTENER, L7Counter.HEADER_TIMEOUT_DROPS)).isGreaterThan(0);
    }
}
