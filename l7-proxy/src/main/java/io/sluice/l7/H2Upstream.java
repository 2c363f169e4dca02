package io.sluice.l7;

import java.util.Map;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * HTTP/2 (cleartext prior knowledge, or ALPN h2 over TLS when the group asks for TLS) to the backends of a group with {@code http2: true}, as gRPC needs for trailers.
 * One connection per (event loop, server) carries many requests, each on its own stream channel; a stream channel speaks
 * the same HTTP/1-style objects as a pooled HTTP/1.1 connection, so {@link FrontendHandler} treats both alike.
 */
final class H2Upstream
{
    private H2Upstream()
    {
    }

    /** Opens a stream to {@code server} on this loop's connection to it, connecting first when there is none. */
    static Future<Http2StreamChannel> openStream(final ListenerRuntime listener, final TransportSupport transport,
        final EventLoop loop, final ServerState server, final HttpListener config, final GroupRuntime group,
        final BackendHandler handler)
    {
        final Promise<Http2StreamChannel> promise = loop.newPromise();
        final Map<String, Future<Channel>> connections = listener.h2Connections.get();
        Future<Channel> connection = connections.get(server.key);
        if (connection == null || (connection.isDone() && (!connection.isSuccess() || !connection.getNow().isActive())))
        {
            connection = connect(transport, loop, server, config, group);
            final Future<Channel> connecting = connection;
            connections.put(server.key, connecting);
            connecting.addListener(f ->
            {
                if (!f.isSuccess())
                {
                    connections.remove(server.key, connecting);
                }
                else
                {
                    connecting.getNow().closeFuture().addListener(closed -> connections.remove(server.key, connecting));
                }
            });
        }
        connection.addListener(f ->
        {
            if (!f.isSuccess())
            {
                promise.setFailure(f.cause());
                return;
            }
            new Http2StreamChannelBootstrap((Channel)f.getNow())
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Http2StreamChannel>()
                {
                    @Override
                    protected void initChannel(final Http2StreamChannel stream)
                    {
                        stream.pipeline().addLast("codec", new Http2StreamFrameToHttpObjectCodec(false));
                        stream.pipeline().addLast("backend", handler);
                    }
                })
                .open()
                .addListener(s ->
                {
                    if (s.isSuccess())
                    {
                        promise.setSuccess((Http2StreamChannel)s.getNow());
                    }
                    else
                    {
                        promise.setFailure(s.cause());
                    }
                });
        });
        return promise;
    }

    private static Future<Channel> connect(final TransportSupport transport, final EventLoop loop, final ServerState server,
        final HttpListener config, final GroupRuntime group)
    {
        final Promise<Channel> promise = loop.newPromise();
        new Bootstrap()
            .group(loop)
            .channel(transport.socketChannelClass())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, config.timeouts().connectTimeoutMillis())
            .handler(new ChannelInitializer<>()
            {
                @Override
                protected void initChannel(final Channel ch)
                {
                    if (group.sslContext != null)
                    {
                        // ALPN offers only h2; the connection preface waits in the SslHandler until the handshake is done
                        ch.pipeline().addLast("tls", group.tls.newHandler(group.sslContext, ch.alloc(),
                            server.address.getAddress().getHostAddress(), server.address.getPort()));
                    }
                    ch.pipeline().addLast("h2", Http2FrameCodecBuilder.forClient().build());
                    // backends do not open streams towards us; any that do are left unanswered
                    ch.pipeline().addLast("h2mux", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, config.timeouts().idleTimeoutSeconds()));
                    ch.pipeline().addLast("idleClose", new ChannelInboundHandlerAdapter()
                    {
                        @Override
                        public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt)
                        {
                            if (evt instanceof IdleStateEvent)
                            {
                                ctx.close();
                                return;
                            }
                            ctx.fireUserEventTriggered(evt);
                        }
                    });
                }
            })
            .connect(server.address)
            .addListener((ChannelFutureListener)f ->
            {
                if (f.isSuccess())
                {
                    promise.setSuccess(f.channel());
                }
                else
                {
                    promise.setFailure(f.cause());
                }
            });
        return promise;
    }
}
