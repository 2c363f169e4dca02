package io.sluice.l7;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

/**
 * Cleartext HTTP/2 with prior knowledge on an http listener with {@code http2: true}: looks at the first bytes; the
 * HTTP/2 connection preface switches the connection to Netty's frame codec with one child channel per stream (each
 * running the same {@link FrontendHandler} over HTTP/1-style objects, so routing, headers and backends are shared), anything
 * else leaves the HTTP/1.1 pipeline in place. Stream channels read only when their backend write succeeded; HTTP/2 flow
 * control then holds the client back.
 */
final class H2PriorKnowledgeDetector extends ByteToMessageDecoder
{
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
    static final int MAX_CONCURRENT_STREAMS = 128;

    private final ListenerRuntime runtime;
    private final TransportSupport transport;
    private final AccessLog accessLog;

    H2PriorKnowledgeDetector(final ListenerRuntime runtime, final TransportSupport transport, final AccessLog accessLog)
    {
        this.runtime = runtime;
        this.transport = transport;
        this.accessLog = accessLog;
    }

    @Override
    protected void decode(final ChannelHandlerContext ctx, final ByteBuf in, final List<Object> out)
    {
        final int length = Math.min(in.readableBytes(), PREFACE.readableBytes());
        if (!ByteBufUtil.equals(in, in.readerIndex(), PREFACE, 0, length))
        {
            // HTTP/1.x: step aside with the HTTP/2 header clock; the buffered bytes go on to the HTTP/1 decoder and its
            // own header timeout
            if (ctx.pipeline().get(H2HeaderTimeoutHandler.NAME) != null)
            {
                ctx.pipeline().remove(H2HeaderTimeoutHandler.NAME);
            }
            ctx.pipeline().remove(this);
            return;
        }
        if (length < PREFACE.readableBytes())
        {
            ctx.read();
            return;
        }
        installHttp2(ctx.pipeline(), runtime, transport, accessLog);
        ctx.pipeline().remove(this);
    }

    /**
     * The HTTP/2 header clock for a cleartext listener with {@code http2: true}, to go in front of the detector so that it
     * times a slow preface from the connection's first byte; the detector removes it when the bytes turn out HTTP/1.
     */
    static H2HeaderTimeoutHandler headerTimeout(final ListenerRuntime runtime)
    {
        return new H2HeaderTimeoutHandler(TimeUnit.SECONDS.toNanos(runtime.snapshot.config().timeouts().headerTimeoutSeconds()),
            runtime.counters.headerTimeout);
    }

    /**
     * Replaces the HTTP/1 handlers of a client pipeline with HTTP/2 (after the prior-knowledge preface, or after ALPN
     * chose h2 on an https listener). The HTTP/2 header clock goes under the codec unless the detector's is already there.
     */
    static void installHttp2(final ChannelPipeline pipeline, final ListenerRuntime runtime, final TransportSupport transport,
        final AccessLog accessLog)
    {
        // "idle" (HTTP/1's reader idle) too: HTTP/2 has its own idle timeout, by streams (IdleConnectionCloser)
        for (final String name : new String[] {"headerTimeout", "decoder", "encoder", "idle", "compressor", "frontend"})
        {
            if (pipeline.get(name) != null)
            {
                pipeline.remove(name);
            }
        }
        final HttpListener config = runtime.snapshot.config();
        if (pipeline.get(H2HeaderTimeoutHandler.NAME) == null)
        {
            pipeline.addLast(H2HeaderTimeoutHandler.NAME, headerTimeout(runtime));
        }
        pipeline.addLast("h2", Http2FrameCodecBuilder.forServer()
            // a bounded number of streams per connection, each at most one backend request
            .initialSettings(Http2Settings.defaultSettings().maxHeaderListSize(config.maxHeaderBytes())
                .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                // RFC 8441: clients may open WebSockets with extended CONNECT (ExtendedConnectHandler)
                .connectProtocolEnabled(true))
            .validateHeaders(true)
            .build());
        pipeline.addLast("h2mux", new Http2MultiplexHandler(streamInitializer(runtime, transport, accessLog)));
        pipeline.addLast("h2idle", new IdleConnectionCloser(TimeUnit.SECONDS.toNanos(config.timeouts().idleTimeoutSeconds())));
        // flow control now bounds what the client may send; the connection itself reads freely
        pipeline.channel().config().setAutoRead(true);
    }

    private static ChannelHandler streamInitializer(final ListenerRuntime runtime, final TransportSupport transport,
        final AccessLog accessLog)
    {
        return new ChannelInitializer<Http2StreamChannel>()
        {
            @Override
            protected void initChannel(final Http2StreamChannel stream)
            {
                stream.config().setAutoRead(false);
                stream.pipeline().addLast("extendedConnect", new ExtendedConnectHandler());
                stream.pipeline().addLast("h2codec", new Http2StreamFrameToHttpObjectCodec(true));
                stream.pipeline().addLast("frontend", new FrontendHandler(runtime, transport, accessLog, new EdgeResponseEncoder()));
            }
        };
    }

    /**
     * The listener's idle timeout on an HTTP/2 connection, counted from when its last stream closed (or from its start):
     * a connection with no open stream for {@code idleTimeoutSeconds} closes through the codec, which says GOAWAY
     * NO_ERROR first, as an idle keep-alive connection closes; open streams keep it (a slow backend is the request
     * timeout's business). Frames without a stream do not count as activity: a client that only sends PING (or SETTINGS,
     * or WINDOW_UPDATE on stream 0) cannot hold a connection, as with Envoy's idle timeout; HTTP/1.1's reader-idle
     * handler leaves the pipeline when HTTP/2 is installed.
     */
    static final class IdleConnectionCloser extends ChannelInboundHandlerAdapter
    {
        private final long idleNanos;
        private Http2Connection connection;
        /** Runs from the connection's start and again from each stream's close. */
        private final LazyDeadline deadline = new LazyDeadline(this::expired);
        private ChannelHandlerContext ctx;

        IdleConnectionCloser(final long idleNanos)
        {
            this.idleNanos = idleNanos;
        }

        @Override
        public void handlerAdded(final ChannelHandlerContext ctx)
        {
            this.ctx = ctx;
            deadline.attach(ctx);
            connection = ctx.pipeline().get(Http2FrameCodec.class).connection();
            connection.addListener(new Http2ConnectionAdapter()
            {
                @Override
                public void onStreamClosed(final Http2Stream stream)
                {
                    // every close restarts the clock; expired() looks whether streams are still open
                    deadline.restart(idleNanos);
                }
            });
            deadline.restart(idleNanos);
        }

        private void expired()
        {
            // open streams keep the connection: the last one's close starts the clock again
            if (connection.numActiveStreams() == 0)
            {
                ctx.close();
            }
        }

        @Override
        public void handlerRemoved(final ChannelHandlerContext ctx)
        {
            deadline.cancel();
        }
    }
}
