package io.sluice.l7;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamFrame;

/**
 * A gRPC-shaped HTTP/2 cleartext backend: records each request's headers and body size, answers with headers, one data
 * frame naming the body size, and trailers carrying {@code grpc-status: 0}.
 */
final class H2Backend implements AutoCloseable
{
    record Seen(Http2Headers headers, int bodyBytes)
    {
    }

    final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    H2Backend() throws InterruptedException
    {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
                    ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Channel>()
                    {
                        @Override
                        protected void initChannel(final Channel stream)
                        {
                            stream.pipeline().addLast(new StreamHandler());
                        }
                    }));
                }
            })
            .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port()
    {
        return ((InetSocketAddress)server.localAddress()).getPort();
    }

    private final class StreamHandler extends SimpleChannelInboundHandler<Http2StreamFrame>
    {
        private Http2Headers requestHeaders;
        private int bodyBytes;

        StreamHandler()
        {
            super(true);
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final Http2StreamFrame frame)
        {
            boolean end = false;
            if (frame instanceof Http2HeadersFrame headers)
            {
                if (requestHeaders == null)
                {
                    requestHeaders = headers.headers();
                }
                end = headers.isEndStream();
            }
            else if (frame instanceof Http2DataFrame data)
            {
                bodyBytes += data.content().readableBytes();
                end = data.isEndStream();
            }
            if (end)
            {
                seen.add(new Seen(requestHeaders, bodyBytes));
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                    .set("content-type", "application/grpc")));
                ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("h2 body " + bodyBytes, StandardCharsets.US_ASCII)));
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0")
                    .set("grpc-message", "ok"), true));
            }
        }
    }

    @Override
    public void close()
    {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
