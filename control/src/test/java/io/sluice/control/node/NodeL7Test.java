package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.control.ControlCounter;
import io.sluice.control.NodeFixture;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.usage.UsageJournal;
import io.sluice.control.usage.UsageMeter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.sluice.control.node.NodeTestSupport.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node serving an HTTP listener through its L7 proxy to real backends in the same namespace: requests reach the
 * backends with X-Forwarded-For, a stopped backend goes down within interval × threshold and traffic moves to the
 * other, it comes back after the healthy threshold, and a change that fails is rolled back while traffic on the
 * untouched listener goes on.
 */
class NodeL7Test
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private NodeFixture fixture;
    private Path tokenFile;

    @BeforeEach
    void start(final TestInfo test) throws Exception
    {
        final boolean accessLog = !test.getTestMethod().orElseThrow().getName().equals("shouldWriteNoAccessLogWhenTheNodeTurnsItOff");
        fixture = new NodeFixture("sl-l7n", dir);
        for (final String address : new String[] {"198.18.10.2/32", "198.18.10.3/32"})
        {
            NodeFixture.run("ip", "-n", fixture.netns(), "addr", "add", address, "dev", "lo");
        }
        startBackend("be1", "198.18.10.2");
        startBackend("be2", "198.18.10.3");
        final Path stateDir = dir.resolve("state");
        tokenFile = stateDir.resolve("api.token");
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, """
            apiVersion: sluice/v1
            node: {name: l7n, stateDir: %s, profile: shared, drainTimeoutSeconds: 2, accessLog: %s}
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners:
                  - {protocol: http, port: 80, serverGroup: app, scheduler: rr,
                     healthCheck: {path: /health, intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 2, unhealthyThreshold: 2}}
                serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}, {address: 198.18.10.3, port: 8081}]}]
            """.formatted(stateDir, accessLog));
        fixture.startNode(config);
    }

    private Process be1;

    private void startBackend(final String name, final String address) throws Exception
    {
        final int port = "be1".equals(name) ? 8080 : 8081;
        final Process process = fixture.spawnJava(dir.resolve(name + ".log"), "io.sluice.testbed.servers.BackendMain",
            "--name", name, "--http", Integer.toString(port));
        if ("be1".equals(name))
        {
            be1 = process;
        }
        awaitTrue(() -> curl("http://" + address + ":" + port + "/health").contains("ok"), 30);
    }

    @AfterEach
    void stop() throws Exception
    {
        fixture.close();
    }

    @Test
    void shouldProxyToHealthyBackendsAndMoveTrafficWhenOneStops() throws Exception
    {
        final String echo = curl("http://198.18.0.100/echo");
        assertThat(echo).containsIgnoringCase("X-Forwarded-For: 198.18.0.100").containsIgnoringCase("X-Forwarded-Proto: http");
        assertThat(backendsSeen(10)).containsExactlyInAnyOrder("be1", "be2");
        // node.accessLog defaults to true: one JSON line per request in <stateDir>/access.log
        final Path accessLog = dir.resolve("state").resolve("access.log");
        awaitTrue(() -> Files.exists(accessLog) && Files.readString(accessLog).contains("\"uri\":\"/echo\""), 10);

        be1.destroy();
        be1.waitFor(10, TimeUnit.SECONDS);
        // interval 1 s × unhealthyThreshold 2, plus a probe timeout: well within 10 s.
        awaitTrue(() -> health().toString().contains("\"up\":false"), 10);
        assertThat(backendsSeen(10)).containsExactly("be2");

        startBackend("be1", "198.18.10.2");
        awaitTrue(() -> !health().toString().contains("\"up\":false"), 10);
        awaitTrue(() -> backendsSeen(10).contains("be1"), 10);
    }

    @Test
    void shouldWriteNoAccessLogWhenTheNodeTurnsItOff() throws Exception
    {
        assertThat(curl("http://198.18.0.100/echo")).containsIgnoringCase("X-Forwarded-For: 198.18.0.100");
        assertThat(backendsSeen(10)).containsExactlyInAnyOrder("be1", "be2");

        assertThat(dir.resolve("state").resolve("access.log")).doesNotExist();
    }

    @Test
    void shouldRollBackAFailingChangeWithoutDisturbingTheUntouchedListener() throws Exception
    {
        // Something else holds 198.18.0.100:81 in the namespace, so a listener there cannot bind.
        final Process squatter = fixture.spawnJava(dir.resolve("squatter.log"), "io.sluice.testbed.servers.BackendMain",
            "--name", "squatter", "--tcp-echo", "81");
        awaitTrue(() -> fixture.inNetns("bash", "-c", "ss -ltn | grep -q ':81 '").exitCode() == 0, 30);

        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final Thread traffic = Thread.ofPlatform().start(() ->
        {
            while (running.get())
            {
                try
                {
                    if (curl("http://198.18.0.100/").length() > 0)
                    {
                        ok.incrementAndGet();
                    }
                    else
                    {
                        failed.incrementAndGet();
                    }
                }
                catch (final Exception ex)
                {
                    failed.incrementAndGet();
                }
            }
        });
        try
        {
            final String answer = fixture.inNetns("curl", "-s", "-X", "PUT", "-H", "Authorization: Bearer " + token(),
                "-H", "Content-Type: application/json", "--data-binary", "{\"serverGroup\": \"app\"}",
                "http://127.0.0.1:9900/v1/loadbalancers/web/listeners/http:81").output();
            assertThat(answer).contains("L7 proxy").contains("nothing applied");
            final JsonNode config = JSON.readTree(fixture.inNetns("curl", "-s", "-H", "Authorization: Bearer " + token(),
                "http://127.0.0.1:9900/v1/config").output());
            assertThat(config.get("version").asLong()).isEqualTo(1);
            assertThat(config.get("loadBalancers").get(0).get("listeners")).hasSize(1);
            final int before = ok.get();
            awaitTrue(() -> ok.get() > before + 5, 20);
        }
        finally
        {
            running.set(false);
            traffic.join();
            squatter.destroyForcibly();
        }
        assertThat(failed.get()).as("requests that failed on the untouched listener").isZero();
        assertThat(ok.get()).isGreaterThan(5);
    }

    @Test
    void shouldMeterL7BytesAndRequestsIntoTheLoadBalancersUsage() throws Exception
    {
        long responseBytes = 0;
        for (int i = 0; i < 5; i++)
        {
            final String sizes = fixture.inNetns("curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w",
                "%{http_code} %{size_header} %{size_download}", "http://198.18.0.100/echo").output().strip();
            final String[] parts = sizes.split(" ");
            assertThat(parts[0]).as(sizes).isEqualTo("200");
            responseBytes += Long.parseLong(parts[1]) + Long.parseLong(parts[2]);
        }
        // the node's own counters file, read from this process as `sluice stat` does, billed by the usage meter
        try (io.sluice.counters.CountersFile file = io.sluice.counters.CountersFile.openForReading(
            dir.resolve("state").resolve(io.sluice.counters.CountersFile.FILE_NAME));
            UsageJournal journal = UsageJournal.open(dir.resolve("usage-test"), null))
        {
            final SluiceConfig config = ConfigLoader.parse(Files.readString(dir.resolve("node.yaml")), "node.yaml");
            final org.agrona.concurrent.status.CountersManager scratch = new org.agrona.concurrent.status.CountersManager(
                new org.agrona.concurrent.UnsafeBuffer(new byte[1 << 16]), new org.agrona.concurrent.UnsafeBuffer(new byte[1 << 14]));
            final UsageMeter meter = new UsageMeter(file.reader(), () -> config, journal, ControlCounter.USAGE_RECORDS.newCounter(scratch));
            final long minute = 1_800_000_000_000L / 60_000 * 60_000;
            final long expectedIn = counterValue(file, "l7.bytes_in[web/http:80]");
            assertThat(meter.sample(minute)).isEqualTo(1);
            final UsageJournal.Record record = journal.between(0, Long.MAX_VALUE).getFirst();
            assertThat(record.loadBalancer()).isEqualTo("web");
            assertThat(record.requests()).isEqualTo(5);
            // response heads and bodies as curl saw them, plus chunk framing if any
            assertThat(record.bytesOut()).isGreaterThanOrEqualTo(responseBytes).isLessThan(responseBytes + 5 * 64);
            assertThat(record.bytesIn()).isEqualTo(expectedIn).isGreaterThan(5 * "GET /echo HTTP/1.1\r\n".length());
        }
    }

    private static long counterValue(final io.sluice.counters.CountersFile file, final String label)
    {
        final long[] value = {-1};
        file.reader().forEach((id, typeId, key, l) ->
        {
            if (l.equals(label))
            {
                value[0] = file.reader().getCounterValue(id);
            }
        });
        return value[0];
    }

    private java.util.Set<String> backendsSeen(final int requests)
    {
        final java.util.Set<String> seen = new java.util.TreeSet<>();
        for (int i = 0; i < requests; i++)
        {
            final String response = curlHeaders("http://198.18.0.100/");
            response.lines().filter(l -> l.toLowerCase().startsWith("x-backend:")).forEach(l -> seen.add(l.substring(10).strip()));
        }
        return seen;
    }

    private JsonNode health()
    {
        try
        {
            return JSON.readTree(fixture.inNetns("curl", "-s", "-H", "Authorization: Bearer " + token(),
                "http://127.0.0.1:9900/v1/health").output());
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private String token() throws java.io.IOException
    {
        return Files.readString(tokenFile).strip();
    }

    private String curl(final String url)
    {
        try
        {
            return fixture.inNetns("curl", "-s", "--max-time", "5", url).output();
        }
        catch (final Exception ex)
        {
            return "";
        }
    }

    private String curlHeaders(final String url)
    {
        try
        {
            return fixture.inNetns("curl", "-s", "-D", "-", "-o", "/dev/null", "--max-time", "5", url).output();
        }
        catch (final Exception ex)
        {
            return "";
        }
    }
}
