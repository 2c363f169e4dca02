package io.sluice.l7;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RFC 8441: a real HTTP/2 client (Netty) opens a WebSocket with extended CONNECT over h2c; the proxy advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, upgrades an HTTP/1.1 WebSocket backend, answers 200 and relays WebSocket frames.
 */
class WebSocketOverHttp2Test
{
    private static final String LISTENER = "web/http";
    /** A masked WebSocket text frame "hi" (RFC 6455 5.7, mask 37 fa 21 3d). */
    private static final byte[] MASKED_HI = {(byte)0x81, (byte)0x82, 0x37, (byte)0xfa, 0x21, 0x3d, 0x5f, (byte)0x93};
    /** An unmasked server text frame "hi". */
    private static final byte[] SERVER_HI = {(byte)0x81, 0x02, 'h', 'i'};

    @Test
    void shouldOpenAWebSocketWithExtendedConnectAndRelayFramesBothWays() throws Exception
    {
        final MultiThreadIoEventLoopGroup clientLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (ServerSocket raw = new ServerSocket(0, 10, InetAddress.getLoopbackAddress()))
        {
            final CompletableFuture<String> backendSaw = new CompletableFuture<>();
            final Thread backend = Thread.ofPlatform().daemon().start(() -> webSocketBackend(raw, backendSaw));
            final int port = ProxyTests.freePort();
            final L7Proxy proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(LISTENER, "127.0.0.1", port)
                .serverGroup("app").http2(true)
                .serverGroups(List.of(new ServerGroup("app", List.of(new Server("127.0.0.1", raw.getLocalPort(), 100)))))
                .build())), ProxyTests.counters());
            try
            {
                final CompletableFuture<Boolean> connectProtocol = new CompletableFuture<>();
                final Channel connection = new Bootstrap().group(clientLoop).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>()
                    {
                        @Override
                        protected void initChannel(final Channel ch)
                        {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter()
                            {
                                @Override
                                public void channelRead(final ChannelHandlerContext ctx, final Object msg)
                                {
                                    if (msg instanceof Http2SettingsFrame settings)
                                    {
                                        connectProtocol.complete(Boolean.TRUE.equals(settings.settings().connectProtocolEnabled()));
                                    }
                                    ctx.fireChannelRead(msg);
                                }
                            });
                            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        }
                    })
                    .connect("127.0.0.1", port).sync().channel();
                assertThat(connectProtocol.get(5, TimeUnit.SECONDS)).as("SETTINGS_ENABLE_CONNECT_PROTOCOL").isTrue();

                final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
                final Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                    .handler(new ChannelInboundHandlerAdapter()
                    {
                        @Override
                        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
                        {
                            if (msg instanceof Http2DataFrame data)
                            {
                                final byte[] bytes = new byte[data.content().readableBytes()];
                                data.content().readBytes(bytes);
                                received.add(bytes);
                            }
                            else if (msg instanceof Http2HeadersFrame headers)
                            {
                                received.add(headers.headers());
                            }
                            ReferenceCountUtil.release(msg);
                        }
                    })
                    .open().sync().getNow();
                final Http2Headers connect = new DefaultHttp2Headers().method("CONNECT").scheme("http").path("/chat")
                    .authority("chat.example.test");
                connect.set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), "websocket");
                connect.set("sec-websocket-version", "13");
                connect.set("sec-websocket-protocol", "chat");
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(connect, false)).sync();

                final Object answer = received.poll(5, TimeUnit.SECONDS);
                assertThat(answer).isInstanceOf(Http2Headers.class);
                assertThat(((Http2Headers)answer).status().toString()).isEqualTo("200");
                assertThat(((Http2Headers)answer).get("sec-websocket-protocol").toString()).isEqualTo("chat");

                stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(MASKED_HI))).sync();
                assertThat((byte[])received.poll(5, TimeUnit.SECONDS)).isEqualTo(SERVER_HI);
                final String upgrade = backendSaw.get(5, TimeUnit.SECONDS).toLowerCase();
                assertThat(upgrade).startsWith("get /chat http/1.1").contains("upgrade: websocket").contains("connection: upgrade")
                    .contains("sec-websocket-key: ").contains("sec-websocket-version: 13").contains("host: chat.example.test");
                assertThat(proxy.counter(LISTENER, L7Counter.UPGRADES)).isEqualTo(1);
                connection.close().sync();
            }
            finally
            {
                proxy.close();
                backend.join(5_000);
            }
        }
        finally
        {
            clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** An HTTP/1.1 WebSocket backend: 101, then answers the client's masked "hi" frame with its own "hi" frame. */
    private static void webSocketBackend(final ServerSocket raw, final CompletableFuture<String> saw)
    {
        try (Socket accepted = raw.accept())
        {
            accepted.setSoTimeout(10_000);
            final InputStream in = accepted.getInputStream();
            final String head = L7ProxyTest.readHead(in);
            saw.complete(head);
            final OutputStream out = accepted.getOutputStream();
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final byte[] frame = in.readNBytes(MASKED_HI.length);
            if (java.util.Arrays.equals(frame, MASKED_HI))
            {
                out.write(SERVER_HI);
                out.flush();
            }
            in.read();
        }
        catch (final java.io.IOException ex)
        {
            saw.completeExceptionally(ex);
        }
    }
}
