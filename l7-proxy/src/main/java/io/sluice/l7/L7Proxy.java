package io.sluice.l7;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AsyncMapping;
import io.netty.util.ResourceLeakDetector;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * The L7 proxy: binds every http/https listener of a {@link ProxyConfig} on its VIP:port and proxies to the server groups.
 * Control owns the lifecycle: {@link #start}, {@link #apply} on every config change, {@link #setServerState} from its
 * health checker, {@link #close} on shutdown. All methods are safe to call from any thread.
 */
public final class L7Proxy implements AutoCloseable
{
    private static final System.Logger LOGGER = System.getLogger(L7Proxy.class.getName());
    /** TLS record: alert (21), version 3.3, length 2, fatal (2), internal_error (80). */
    private static final byte[] INTERNAL_ERROR_ALERT = {21, 3, 3, 0, 2, 2, 80};

    private final TransportSupport transport;
    private final MultiThreadIoEventLoopGroup group;
    private final CountersManager countersManager;
    private final Map<String, ListenerRuntime> listeners = new LinkedHashMap<>();
    private final AccessLog accessLog;
    private final AtomicCounter accessLogDrops;
    /** Load balancer peaks by instance name, one bucket shared by all the listeners naming it. */
    private final Map<String, OutboundPeak> instancePeaks = new HashMap<>();
    private volatile ProxyConfig config;
    private boolean closed;
    private int bandwidthShare = 1;
    private final Function<String, AtomicLong> instancePeakCells;

    private L7Proxy(final ProxyConfig config, final CountersManager countersManager,
        final Function<String, AtomicLong> instancePeakCells)
    {
        this.instancePeakCells = instancePeakCells;
        if (System.getProperty("io.netty.leakDetection.level") == null)
        {
            // Netty samples one buffer in 128 and records a stack trace for it (a Throwable per sample): measurable on
            // the request path and of no use in production; -Dio.netty.leakDetection.level=... turns it back on
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        this.config = config;
        this.countersManager = countersManager;
        this.transport = TransportSupport.of(config.transport());
        this.group = transport.newGroup(config.ioThreads(), "sluice-l7", config.eventLoopSliceNanos());
        this.accessLogDrops = countersManager.newCounter(L7Counter.ACCESS_LOG_DROPS.label(), L7Counter.ACCESS_LOG_DROPS.typeId());
        try
        {
            this.accessLog = config.accessLog() == null ? null : new AccessLog(config.accessLog(), accessLogDrops);
        }
        catch (final IOException ex)
        {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new UncheckedIOException("cannot open access log " + config.accessLog(), ex);
        }
    }

    /**
     * Starts the event loops and binds every listener; returns once all are bound.
     *
     * @throws IllegalStateException when a listener cannot be bound (nothing stays bound then).
     */
    public static L7Proxy start(final ProxyConfig config, final CountersManager counters)
    {
        return start(config, counters, name -> new AtomicLong(Long.MIN_VALUE));
    }

    /**
     * Starts the proxy with its load balancers' peaks ({@link InstancePeak}) kept in cells it shares with the node's
     * fastpath: a GCRA theoretical arrival time per load balancer name ({@link Long#MIN_VALUE} when never taken from,
     * {@link System#nanoTime()} time base), the same cell the fastpath's bucket for that load balancer uses, so its
     * {@code bandwidthMbps} is one budget for its L4 and L7 listeners together.
     *
     * @param instancePeakCells the cell for a load balancer's name; the same cell for the same name every time.
     */
    public static L7Proxy start(final ProxyConfig config, final CountersManager counters,
        final Function<String, AtomicLong> instancePeakCells)
    {
        final L7Proxy proxy = new L7Proxy(config, counters, Objects.requireNonNull(instancePeakCells, "instancePeakCells"));
        try
        {
            for (final HttpListener listener : config.listeners())
            {
                proxy.addListener(listener);
            }
        }
        catch (final RuntimeException ex)
        {
            proxy.close();
            throw ex;
        }
        return proxy;
    }

    /**
     * Applies a new configuration at run time. Listeners are matched by name: new ones are bound, removed ones stop
     * accepting and their connections drain, changed ones take the new rules for their next request while requests in
     * flight finish under the old ones. Server health and ejection state survive for servers that remain. Transport,
     * thread count and event-loop slice are fixed at start; a change to them is ignored with a warning.
     */
    public synchronized void apply(final ProxyConfig newConfig)
    {
        if (closed)
        {
            throw new IllegalStateException("proxy closed");
        }
        if (newConfig.transport() != config.transport() || newConfig.ioThreads() != config.ioThreads()
            || newConfig.eventLoopSliceNanos() != config.eventLoopSliceNanos())
        {
            LOGGER.log(System.Logger.Level.WARNING,
                "transport, ioThreads and eventLoopSliceNanos changes need a restart; keeping {0} x{1}, slice {2} ns",
                config.transport(), config.ioThreads(), config.eventLoopSliceNanos());
        }
        final Map<String, HttpListener> wanted = new LinkedHashMap<>();
        newConfig.listeners().forEach(l -> wanted.put(l.name(), l));
        // New listeners bind before old ones close, so a bind that fails leaves every old listener serving (the caller
        // rolls back by applying the previous config). Only an old listener holding a new one's VIP:port goes first.
        final java.util.Set<String> newEndpoints = new java.util.HashSet<>();
        for (final HttpListener listener : wanted.values())
        {
            if (!listeners.containsKey(listener.name()))
            {
                newEndpoints.add(listener.vip() + "|" + listener.port());
            }
        }
        final List<String> obsolete = new java.util.ArrayList<>();
        for (final String name : listeners.keySet().toArray(new String[0]))
        {
            if (!wanted.containsKey(name))
            {
                final HttpListener old = listeners.get(name).snapshot.config();
                if (newEndpoints.contains(old.vip() + "|" + old.port()))
                {
                    removeListener(name);
                }
                else
                {
                    obsolete.add(name);
                }
            }
        }
        for (final HttpListener listener : wanted.values())
        {
            final ListenerRuntime runtime = listeners.get(listener.name());
            if (runtime == null)
            {
                addListener(listener);
            }
            else
            {
                final HttpListener old = runtime.snapshot.config();
                final List<ServerState> removed = runtime.update(listener, newConfig.upstream());
                if (!removed.isEmpty())
                {
                    // requests in flight to a removed server still count on it: free its counters after the drain time
                    group.schedule(() -> removed.forEach(ServerState::close), newConfig.drainTimeoutMillis(), TimeUnit.MILLISECONDS);
                }
                if (!old.vip().equals(listener.vip()) || old.port() != listener.port())
                {
                    final Channel previous = runtime.serverChannel;
                    bind(runtime, listener);
                    previous.close().syncUninterruptibly();
                }
            }
        }
        obsolete.forEach(this::removeListener);
        config = newConfig;
        syncOutboundPeaks();
    }

    /**
     * Every outbound peak (listeners' and load balancers') at limit ÷ {@code liveNodes} from now on: each live node of a
     * cluster enforces its share, as the fastpath does for L4 (docs/cluster.md).
     */
    public synchronized void setBandwidthShare(final int liveNodes)
    {
        if (liveNodes < 1)
        {
            throw new IllegalArgumentException("liveNodes: " + liveNodes + " must be >= 1");
        }
        bandwidthShare = liveNodes;
        for (final ListenerRuntime runtime : listeners.values())
        {
            for (final OutboundPeak peak : runtime.outboundPeaks)
            {
                peak.share(liveNodes);
            }
        }
    }

    /** The outbound rates (bytes/s, after the cluster share) a listener is held to now: its own first; empty when none. */
    public synchronized long[] outboundPeaks(final String listener)
    {
        final ListenerRuntime runtime = listeners.get(listener);
        if (runtime == null)
        {
            return new long[0];
        }
        final OutboundPeak[] peaks = runtime.outboundPeaks;
        final long[] rates = new long[peaks.length];
        for (int i = 0; i < peaks.length; i++)
        {
            rates[i] = peaks[i].bytesPerSecond();
        }
        return rates;
    }

    /**
     * Points every listener at its peaks after a change. A peak that stays keeps its bucket (and what it has booked), so
     * a change elsewhere in the config does not hand out a fresh burst; a changed limit applies to the next booking.
     */
    private void syncOutboundPeaks()
    {
        final java.util.Set<String> usedInstances = new java.util.HashSet<>();
        for (final ListenerRuntime runtime : listeners.values())
        {
            final HttpListener listener = runtime.snapshot.config();
            final List<OutboundPeak> peaks = new java.util.ArrayList<>(2);
            if (listener.peakBytesPerSecond() > 0)
            {
                if (runtime.listenerPeak == null)
                {
                    runtime.listenerPeak = new OutboundPeak(listener.name(), listener.peakBytesPerSecond());
                    runtime.listenerPeak.share(bandwidthShare);
                }
                else if (runtime.listenerPeak.limitBytesPerSecond() != listener.peakBytesPerSecond())
                {
                    runtime.listenerPeak.limit(listener.peakBytesPerSecond());
                }
                peaks.add(runtime.listenerPeak);
            }
            else
            {
                runtime.listenerPeak = null;
            }
            final InstancePeak instance = listener.instancePeak();
            if (instance != null)
            {
                OutboundPeak peak = instancePeaks.get(instance.instance());
                if (peak == null)
                {
                    peak = new OutboundPeak(instance.instance(), instance.bytesPerSecond(),
                        instancePeakCells.apply(instance.instance()));
                    peak.share(bandwidthShare);
                    instancePeaks.put(instance.instance(), peak);
                }
                else if (peak.limitBytesPerSecond() != instance.bytesPerSecond())
                {
                    peak.limit(instance.bytesPerSecond());
                }
                usedInstances.add(instance.instance());
                peaks.add(peak);
            }
            runtime.outboundPeaks = peaks.toArray(new OutboundPeak[0]);
        }
        instancePeaks.keySet().retainAll(usedInstances);
    }

    /**
     * Control's health verdict for one (listener, server).
     *
     * @param listener listener name.
     * @param server   {@link Server#key()}, e.g. {@code 198.18.10.2:8080}.
     * @return false when no such listener or server exists.
     */
    public boolean setServerState(final String listener, final String server, final boolean up)
    {
        final ListenerRuntime runtime;
        synchronized (this)
        {
            runtime = listeners.get(listener);
        }
        return runtime != null && runtime.setServerState(server, up);
    }

    /** The Netty transport the proxy's event loops and sockets run on (fixed at start). */
    public Transport transport()
    {
        return transport.transport();
    }

    /** The address a listener is bound to (for tests and the node's status), or null. */
    public synchronized InetSocketAddress localAddress(final String listener)
    {
        final ListenerRuntime runtime = listeners.get(listener);
        return runtime == null || runtime.serverChannel == null ? null : (InetSocketAddress)runtime.serverChannel.localAddress();
    }

    /** Current value of a per-listener counter (0 for unknown listeners). */
    public synchronized long counter(final String listener, final L7Counter counter)
    {
        final ListenerRuntime runtime = listeners.get(listener);
        return runtime == null ? 0 : runtime.counters.get(counter);
    }

    /** Requests sent to one server of a listener so far. */
    public synchronized long serverRequests(final String listener, final String server)
    {
        final ListenerRuntime runtime = listeners.get(listener);
        final ServerState state = runtime == null ? null : runtime.servers.get(server);
        return state == null ? 0 : state.requestCount.get();
    }

    /** Keep-alive connections to one server of a listener sitting idle in the pools of all event loops. */
    public synchronized int idleConnections(final String listener, final String server)
    {
        final ListenerRuntime runtime = listeners.get(listener);
        final ServerState state = runtime == null ? null : runtime.servers.get(server);
        return state == null ? 0 : state.idleConnections.get();
    }

    /** Response-head latency (microseconds) of a listener, or of one of its servers when server is non-null. */
    public synchronized Histogram latencyMicros(final String listener, final String server)
    {
        final ListenerRuntime runtime = listeners.get(listener);
        if (runtime == null)
        {
            return null;
        }
        if (server == null)
        {
            return runtime.latencyMicros.copy();
        }
        final ServerState state = runtime.servers.get(server);
        return state == null ? null : state.latencyMicros.copy();
    }

    private void addListener(final HttpListener listener)
    {
        final ListenerRuntime runtime = new ListenerRuntime(listener, config.upstream(), countersManager);
        listeners.put(listener.name(), runtime);
        // before the bind: the first connection finds its peaks in place
        syncOutboundPeaks();
        try
        {
            bind(runtime, listener);
        }
        catch (final RuntimeException ex)
        {
            listeners.remove(listener.name());
            syncOutboundPeaks();
            runtime.close();
            throw ex;
        }
    }

    private void bind(final ListenerRuntime runtime, final HttpListener listener)
    {
        final ServerBootstrap bootstrap = new ServerBootstrap()
            .group(group)
            .channel(transport.serverChannelClass())
            .option(ChannelOption.SO_BACKLOG, 4096)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ClientInitializer(runtime));
        final SocketAddress address = new InetSocketAddress(listener.vip(), listener.port());
        final io.netty.channel.ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess())
        {
            throw new IllegalStateException("cannot bind " + listener.name() + " on " + address, bound.cause());
        }
        runtime.serverChannel = bound.channel();
    }

    private void removeListener(final String name)
    {
        final ListenerRuntime runtime = listeners.remove(name);
        runtime.serverChannel.close().syncUninterruptibly();
        drainAsync(runtime);
    }

    private void drainAsync(final ListenerRuntime runtime)
    {
        drain(runtime);
        group.schedule(() ->
        {
            runtime.clientChannels.close();
            runtime.close();
        }, config.drainTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    private static void drain(final ListenerRuntime runtime)
    {
        for (final Channel channel : runtime.clientChannels)
        {
            channel.eventLoop().execute(() ->
            {
                final FrontendHandler frontend = channel.pipeline().get(FrontendHandler.class);
                if (frontend != null)
                {
                    frontend.drain();
                }
            });
        }
    }

    /**
     * Graceful stop: unbind every listener, let exchanges in flight finish (idle keep-alive connections close at once),
     * wait up to drainTimeoutMillis, then close what is left and stop the event loops.
     */
    @Override
    public void close()
    {
        final Map<String, ListenerRuntime> toClose;
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            toClose = new HashMap<>(listeners);
            listeners.clear();
        }
        for (final ListenerRuntime runtime : toClose.values())
        {
            if (runtime.serverChannel != null)
            {
                runtime.serverChannel.close().syncUninterruptibly();
            }
            drain(runtime);
        }
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.drainTimeoutMillis());
        for (final ListenerRuntime runtime : toClose.values())
        {
            while (!runtime.clientChannels.isEmpty() && System.nanoTime() < deadline)
            {
                try
                {
                    Thread.sleep(10);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            runtime.clientChannels.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        toClose.values().forEach(ListenerRuntime::close);
        if (accessLog != null)
        {
            accessLog.close();
        }
        accessLogDrops.close();
    }

    /** Per accepted client connection: ACL and connection limit before any byte is read, then the HTTP pipeline. */
    private final class ClientInitializer extends ChannelInitializer<SocketChannel>
    {
        private final ListenerRuntime runtime;

        ClientInitializer(final ListenerRuntime runtime)
        {
            this.runtime = runtime;
        }

        @Override
        protected void initChannel(final SocketChannel ch)
        {
            final ListenerRuntime.Snapshot snapshot = runtime.snapshot;
            final HttpListener listener = snapshot.config();
            final ListenerCounters counters = runtime.counters;
            counters.accepted.increment();
            if (snapshot.acl() != null && !snapshot.acl().permits(ch.remoteAddress().getAddress()))
            {
                counters.aclDenied.increment();
                ch.close();
                return;
            }
            if (listener.maxConnections() > 0 && runtime.connections.incrementAndGet() > listener.maxConnections())
            {
                runtime.connections.decrementAndGet();
                counters.maxConnectionsDropped.increment();
                ch.close();
                return;
            }
            else if (listener.maxConnections() <= 0)
            {
                runtime.connections.incrementAndGet();
            }
            counters.active.increment();
            ch.closeFuture().addListener(f ->
            {
                runtime.connections.decrementAndGet();
                counters.active.decrement();
            });
            runtime.clientChannels.add(ch);
            final ChannelPipeline pipeline = ch.pipeline();
            pipeline.addLast("meter", new ByteMeter(counters.bytesOut, counters.bytesIn));
            // above the meter (which counts what leaves, when it leaves), under TLS and HTTP/2: paces the wire bytes
            pipeline.addLast("shaper", new OutboundShaper(runtime));
            if (listener.tls() != null)
            {
                // the TLS seam: SNI picks the listener's context (keyless, signing through the key server), ALPN picks h2
                final TlsContexts tls = listener.tls();
                pipeline.addLast("tls", new SniHandler((AsyncMapping<String, SslContext>)(hostname, promise) ->
                {
                    try
                    {
                        return promise.setSuccess(tls.contextFor(hostname));
                    }
                    catch (final RuntimeException ex)
                    {
                        // contexts not loaded yet (key server down or certificate unknown): close rather than hang. The
                        // SniHandler asks again with the buffered ClientHello when the channel goes inactive: count once.
                        if (ch.isActive())
                        {
                            counters.tlsNotReady.increment();
                            // a fatal internal_error alert, written under every handler straight to the socket: nothing
                            // has been sent yet, so a plaintext alert record is what the client can read at this point
                            ch.pipeline().firstContext().writeAndFlush(Unpooled.wrappedBuffer(INTERNAL_ERROR_ALERT))
                                .addListener(ChannelFutureListener.CLOSE);
                        }
                        return promise.setFailure(ex);
                    }
                }));
                final ChannelHandler alert = tls.newAlertHandler();
                if (alert != null)
                {
                    // right after the SniHandler (which becomes the SslHandler): a key-server failure becomes a TLS alert
                    pipeline.addLast("tlsAlert", alert);
                }
                pipeline.addLast("alpn", new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1)
                {
                    @Override
                    protected void configurePipeline(final ChannelHandlerContext ctx, final String protocol)
                    {
                        if (ApplicationProtocolNames.HTTP_2.equals(protocol) && runtime.snapshot.config().http2())
                        {
                            H2PriorKnowledgeDetector.installHttp2(ctx.pipeline(), runtime, transport, accessLog);
                        }
                    }
                });
            }
            final EdgeResponseEncoder encoder = new EdgeResponseEncoder();
            final FrontendHandler frontend = new FrontendHandler(runtime, transport, accessLog, encoder);
            final HeaderTimeoutHandler headerTimeout = new HeaderTimeoutHandler(
                TimeUnit.SECONDS.toNanos(listener.timeouts().headerTimeoutSeconds()), frontend::onHeaderTimeout);
            frontend.headerTimer(headerTimeout);
            if (listener.http2() && listener.tls() == null)
            {
                pipeline.addLast(H2HeaderTimeoutHandler.NAME, H2PriorKnowledgeDetector.headerTimeout(runtime));
                pipeline.addLast("h2detect", new H2PriorKnowledgeDetector(runtime, transport, accessLog));
            }
            pipeline.addLast("headerTimeout", headerTimeout);
            pipeline.addLast("decoder", new EdgeRequestDecoder(listener.maxHeaderBytes()));
            pipeline.addLast("encoder", encoder);
            // reader idle only (no listener on every write): the client sent nothing for idleTimeoutSeconds
            pipeline.addLast("idle", new IdleStateHandler(listener.timeouts().idleTimeoutSeconds(), 0, 0));
            if (listener.gzip())
            {
                pipeline.addLast("compressor", new HttpContentCompressor());
            }
            pipeline.addLast("frontend", frontend);
        }
    }
}
