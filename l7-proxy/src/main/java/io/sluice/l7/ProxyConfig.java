package io.sluice.l7;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.sluice.nativeio.Libc;

/**
 * Everything {@link L7Proxy} needs: its listeners and process-wide settings. Immutable; {@link L7Proxy#apply} swaps a
 * whole new one in.
 *
 * @param listeners          http/https listeners; names and VIP:port pairs unique.
 * @param transport          io_uring (default), epoll or NIO; fixed at start.
 * @param ioThreads          event loops, 1..256; fixed at start.
 * @param drainTimeoutMillis how long {@link L7Proxy#close} waits for in-flight requests, 0..600000.
 * @param accessLog          JSON-lines access log file, or null for none.
 * @param upstream           backend pooling and passive health.
 * @param eventLoopSliceNanos EEVDF time slice each event loop asks for on start (docs/l7-proxy.md "Session 5: time
 *                           slice"); 0 = the kernel's default, else {@link Libc#MIN_SLICE_NANOS}..{@link
 *                           Libc#MAX_SLICE_NANOS} (0.1..100 ms); fixed at start.
 */
public record ProxyConfig(List<HttpListener> listeners, Transport transport, int ioThreads, long drainTimeoutMillis,
    Path accessLog, Upstream upstream, long eventLoopSliceNanos)
{
    public ProxyConfig
    {
        listeners = List.copyOf(ConfigException.required("listeners", listeners));
        transport = transport == null ? Transport.IO_URING : transport;
        ConfigException.range("ioThreads", ioThreads, 1, 256);
        ConfigException.range("drainTimeoutMillis", drainTimeoutMillis, 0, 600_000);
        upstream = upstream == null ? Upstream.DEFAULT : upstream;
        if (eventLoopSliceNanos != 0)
        {
            ConfigException.range("eventLoopSliceNanos", eventLoopSliceNanos, Libc.MIN_SLICE_NANOS, Libc.MAX_SLICE_NANOS);
        }
        final Set<String> names = new HashSet<>();
        final Set<String> endpoints = new HashSet<>();
        final java.util.Map<String, Long> instancePeaks = new java.util.HashMap<>();
        for (final HttpListener listener : listeners)
        {
            if (!names.add(listener.name()))
            {
                throw new ConfigException("listeners: " + listener.name() + " is defined twice");
            }
            if (!endpoints.add(listener.vip() + "|" + listener.port()))
            {
                throw new ConfigException("listeners: " + listener.vip() + ":" + listener.port() + " is bound twice");
            }
            final InstancePeak peak = listener.instancePeak();
            if (peak != null)
            {
                final Long other = instancePeaks.putIfAbsent(peak.instance(), peak.bytesPerSecond());
                if (other != null && other != peak.bytesPerSecond())
                {
                    throw new ConfigException(listener.name() + ".instancePeak: " + peak.instance() + " has two peaks, " + other +
                        " and " + peak.bytesPerSecond() + " B/s");
                }
            }
        }
    }

    /** With the kernel's default time slice for the event loops. */
    public ProxyConfig(final List<HttpListener> listeners, final Transport transport, final int ioThreads,
        final long drainTimeoutMillis, final Path accessLog, final Upstream upstream)
    {
        this(listeners, transport, ioThreads, drainTimeoutMillis, accessLog, upstream, 0);
    }

    public ProxyConfig(final List<HttpListener> listeners)
    {
        this(listeners, Transport.IO_URING, 1, 30_000, null, Upstream.DEFAULT, 0);
    }

    public ProxyConfig withListeners(final List<HttpListener> newListeners)
    {
        return new ProxyConfig(newListeners, transport, ioThreads, drainTimeoutMillis, accessLog, upstream, eventLoopSliceNanos);
    }
}
