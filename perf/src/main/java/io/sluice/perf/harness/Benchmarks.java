package io.sluice.perf.harness;

import io.sluice.perf.load.H2load;
import io.sluice.perf.load.NftCounter;
import io.sluice.perf.load.TcpConnectClient;
import io.sluice.perf.load.UdpGenerator;
import io.sluice.perf.load.Wrk;
import io.sluice.perf.subjects.Haproxy;
import io.sluice.perf.subjects.Nginx;
import io.sluice.perf.subjects.NftablesDnat;
import io.sluice.perf.subjects.References;
import io.sluice.perf.subjects.Sluice;
import io.sluice.perf.subjects.XdpReflector;
import io.sluice.testbed.BackendPorts;
import io.sluice.testbed.Testbed;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmarks and their cases. Adding sluice later means adding a subject to the lists below,
 * nothing else: the harness runs every subject of a case on the same testbed and load.
 */
public final class Benchmarks
{
    public static final List<String> NAMES = List.of("l4", "l7", "tls", "sync");
    public static final int UDP_BASE_PORT = 9000;
    public static final int UDP_FLOWS = 256;
    public static final int TCP_CONCURRENCY = 16;
    public static final int WRK_CONNECTIONS = 64;
    public static final int H2LOAD_CONNECTIONS = 100;

    private Benchmarks()
    {
    }

    public static String title(final String name)
    {
        return switch (name)
        {
            case "l4" -> "L4 packets and connections";
            case "l7" -> "L7 HTTP/1.1 proxying";
            case "tls" -> "TLS 1.3 handshakes";
            case "sync" -> "session sync between LB nodes";
            default -> throw new IllegalArgumentException("benchmark: '" + name + "' is not one of " + NAMES);
        };
    }

    /** A benchmark without cases yet: the reason, or null when it has cases. */
    public static String notYetAvailable(final String name)
    {
        return name.equals("sync") ? "session sync is measured once the sluice node exists (its SyncAgent"
            + " between lb1 and lb2); there is no baseline that syncs L4 sessions to compare with on this testbed." : null;
    }

    public static List<BenchCase> cases(final String name)
    {
        return switch (name)
        {
            case "l4" -> List.of(
                new BenchCase("udp-64B", "UDP, 64-byte frames, " + UDP_FLOWS + " flows", "packets/s", "CPU-µs/packet",
                    "sendmmsg generator in client (64 per call, 64-byte frames), delivered packets counted at the sinks", false,
                    udp(64),
                    List.of(References.generatorCeiling(), References.kernelForwarding(), NftablesDnat.forEcho(),
                        new XdpReflector(), Sluice.udp(), Sluice.offload(false), Sluice.generic(false, false),
                        Sluice.generic(false, true))),
                new BenchCase("udp-1500B", "UDP, 1500-byte frames, " + UDP_FLOWS + " flows", "packets/s", "CPU-µs/packet",
                    "sendmmsg generator in client (64 per call, 1500-byte frames), delivered packets counted at the sinks", false,
                    udp(1500),
                    List.of(References.generatorCeiling(), References.kernelForwarding(), NftablesDnat.forEcho(),
                        new XdpReflector(), Sluice.udp(), Sluice.offload(false), Sluice.generic(false, false),
                        Sluice.generic(false, true))),
                new BenchCase("tcp-connect", "TCP connections/s", "connections/s", "CPU-µs/connection",
                    TCP_CONCURRENCY + " client threads: connect, 1-byte echo, close with RST", true, tcpConnect(),
                    List.of(References.direct(BackendPorts.TCP_ECHO), NftablesDnat.forEcho(), Haproxy.tcp(),
                        Sluice.tcp(), Sluice.tcp(2), Sluice.offload(true), Sluice.generic(true, false),
                        Sluice.generic(true, true))));
            case "l7" -> List.of(
                new BenchCase("http1-keepalive", "HTTP/1.1 keep-alive, 100-byte responses", "requests/s", "CPU-µs/request",
                    "wrk -t1 -c" + WRK_CONNECTIONS + " GET / (backends: nginx, 100-byte body)", false, wrk(),
                    List.of(References.direct(BackendPorts.HTTP), Nginx.http(), Haproxy.http(), Sluice.http("shared"),
                        Sluice.http("throughput"))));
            case "tls" -> List.of(
                tlsCase(Certificates.KeyType.ECDSA_P256), tlsCase(Certificates.KeyType.RSA_2048));
            case "sync" -> List.of();
            default -> throw new IllegalArgumentException("benchmark: '" + name + "' is not one of " + NAMES);
        };
    }

    private static BenchCase tlsCase(final Certificates.KeyType keyType)
    {
        return new BenchCase("tls13-" + keyType.label(), "new TLS 1.3 handshakes/s, " + keyType.label(), "handshakes/s",
            "CPU-µs/handshake", "h2load -c" + H2LOAD_CONNECTIONS + " -n" + H2LOAD_CONNECTIONS
            + " (one request per new connection, rounds until the time is up), h2 via ALPN", true, tls(),
            List.of(Nginx.tls(keyType), Haproxy.tls(keyType), Sluice.tls(keyType)));
    }

    static Workload udp(final int frameBytes)
    {
        return (ctx, target, seconds) ->
        {
            final Testbed testbed = ctx.testbed();
            final int lastPort = UDP_BASE_PORT + UDP_FLOWS - 1;
            for (final String node : target.sinkNodes())
            {
                NftCounter.install(testbed, node, UDP_BASE_PORT, lastPort, target.sinkInterface());
            }
            try
            {
                final Map<String, Long> before = counts(testbed, target.sinkNodes());
                final UdpGenerator.Result sent = UdpGenerator.run(testbed.ns(Testbed.CLIENT), new UdpGenerator.Config(
                    target.addresses(), UDP_BASE_PORT, UDP_FLOWS, frameBytes, (long)(seconds * 1000), 0, ctx.settings().loadCpu()));
                // let queued packets drain before reading the sinks
                Thread.sleep(200);
                final Map<String, Long> after = counts(testbed, target.sinkNodes());
                long delivered = 0;
                long least = Long.MAX_VALUE;
                long most = 0;
                for (final String node : target.sinkNodes())
                {
                    final long n = after.get(node) - before.get(node);
                    delivered += n;
                    least = Math.min(least, n);
                    most = Math.max(most, n);
                }
                final double secondsTaken = sent.elapsedNs() / 1e9;
                final Map<String, Double> extra = new LinkedHashMap<>();
                extra.put("generatedPps", sent.packetsPerSecond());
                extra.put("lossPercent", sent.sent() == 0 ? 0 : 100.0 * Math.max(0, sent.sent() - delivered) / sent.sent());
                if (target.sinkNodes().size() > 1)
                {
                    extra.put("backendSpread", most == 0 ? 0 : (double)least / most);
                }
                return new Measurement(delivered / secondsTaken, delivered, extra);
            }
            finally
            {
                for (final String node : target.sinkNodes())
                {
                    NftCounter.remove(testbed, node);
                }
            }
        };
    }

    private static Map<String, Long> counts(final Testbed testbed, final List<String> nodes)
    {
        final Map<String, Long> counts = new LinkedHashMap<>();
        for (final String node : nodes)
        {
            counts.put(node, NftCounter.packets(testbed, node));
        }
        return counts;
    }

    static Workload tcpConnect()
    {
        return (ctx, target, seconds) ->
        {
            final TcpConnectClient.Result result = TcpConnectClient.run(ctx.testbed().ns(Testbed.CLIENT), target.address(),
                target.port(), TCP_CONCURRENCY, (long)(seconds * 1000), ctx.settings().loadCpu());
            if (result.connections() == 0)
            {
                throw new IllegalStateException("no connection completed (" + result.failures() + " failures)");
            }
            final Map<String, Double> extra = new LinkedHashMap<>();
            extra.put("failures", (double)result.failures());
            return new Measurement(result.connectionsPerSecond(), result.connections(), extra);
        };
    }

    static Workload wrk()
    {
        return (ctx, target, seconds) ->
        {
            FirstAnswer.await(ctx, "http://" + target.urlHost() + ":" + target.port() + "/");
            final Wrk.Result result = Wrk.run(ctx.testbed(), "http://" + target.urlHost() + ":" + target.port() + "/", 1,
                WRK_CONNECTIONS, Math.max(1, (int)Math.round(seconds)), ctx.settings().loadCpu());
            if (result.requests() == 0)
            {
                throw new IllegalStateException("wrk completed no request");
            }
            final Map<String, Double> extra = new LinkedHashMap<>();
            extra.put("p50Ms", result.p50Ms());
            extra.put("p90Ms", result.p90Ms());
            extra.put("p99Ms", result.p99Ms());
            extra.put("errors", (double)result.errors());
            return new Measurement(result.requestsPerSecond(), result.requests(), extra);
        };
    }

    static Workload tls()
    {
        return (ctx, target, seconds) ->
        {
            final H2load.Result result = H2load.run(ctx.testbed(), "https://" + target.urlHost() + ":" + target.port() + "/",
                H2LOAD_CONNECTIONS, seconds, ctx.settings().loadCpu());
            if (result.handshakes() == 0)
            {
                throw new IllegalStateException("h2load completed no handshake (" + result.failures() + " failures)");
            }
            final Map<String, Double> extra = new LinkedHashMap<>();
            extra.put("failures", (double)result.failures());
            return new Measurement(result.handshakesPerSecond(), result.handshakes(), extra);
        };
    }
}
