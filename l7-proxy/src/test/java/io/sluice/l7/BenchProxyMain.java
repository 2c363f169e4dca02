package io.sluice.l7;

import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one proxy listener in the foreground for l7-proxy/bench/l7-bench.sh:
 * {@code BenchProxyMain LISTEN_ADDR PORT BACKEND_ADDR BACKEND_PORT [io_uring|epoll|nio] [threads] [access-log-file|-]
 * [xff|noxff]}. The node always writes an access log (the harness measures it that way); {@code -} (the default) runs
 * without one. Ends on SIGTERM.
 */
public final class BenchProxyMain
{
    private BenchProxyMain()
    {
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final Transport transport = args.length > 4 ? Transport.valueOf(args[4].toUpperCase()) : Transport.IO_URING;
        final int threads = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        final java.nio.file.Path accessLog = args.length > 6 && !"-".equals(args[6]) ? java.nio.file.Path.of(args[6]) : null;
        final boolean xForwardedFor = args.length <= 7 || !"noxff".equals(args[7]);
        final HttpListener listener = HttpListener.builder("bench", args[0], Integer.parseInt(args[1]))
            .serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(new Server(args[2], Integer.parseInt(args[3]), 100)))))
            .xForwardedFor(xForwardedFor)
            .build();
        final L7Proxy proxy = L7Proxy.start(new ProxyConfig(List.of(listener), transport, threads, 1_000, accessLog, Upstream.DEFAULT),
            ProxyTests.counters());
        final CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            proxy.close();
            stop.countDown();
        }));
        System.err.println("sluice l7 bench proxy on " + proxy.localAddress("bench") + " via " + transport);
        stop.await();
    }
}
