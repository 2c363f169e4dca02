package io.sluice.l7;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

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
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.DomainWildcardMappingBuilder;

/**
 * A real TLS HTTP/1.1 backend (Netty, BoringSSL) with a certificate for {@code backend.example.test} signed by a throwaway
 * CA made with openssl: records the SNI each connection sent and answers {@code tls sni=NAME}.
 */
final class TlsBackend implements AutoCloseable
{
    static final String HOST = "backend.example.test";

    final List<String> sniSeen = new CopyOnWriteArrayList<>();
    final Path caPem;
    final Path otherCaPem;
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    TlsBackend(final Path dir) throws Exception
    {
        caPem = dir.resolve("ca.pem");
        otherCaPem = dir.resolve("other-ca.pem");
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=sluice test backend CA");
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other-ca.key",
            "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=some other CA");
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
            "-out", "leaf.csr", "-subj", "/CN=" + HOST);
        Files.writeString(dir.resolve("leaf.ext"), "subjectAltName=DNS:" + HOST + "\n");
        openssl(dir, "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext");
        final SslContext context = SslContextBuilder.forServer(new File(dir.resolve("leaf.pem").toString()),
            new File(dir.resolve("leaf.key").toString())).build();
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    ch.pipeline().addLast(new SniHandler(new DomainWildcardMappingBuilder<>(context).build())
                    {
                        @Override
                        protected void replaceHandler(final ChannelHandlerContext ctx, final String hostname, final SslContext ssl)
                            throws Exception
                        {
                            sniSeen.add(hostname == null ? "none" : hostname);
                            super.replaceHandler(ctx, hostname, ssl);
                        }
                    });
                    ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Answer());
                }
            })
            .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port()
    {
        return ((InetSocketAddress)server.localAddress()).getPort();
    }

    private static void openssl(final Path dir, final String... args) throws Exception
    {
        final List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0)
        {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: "
                + Files.readString(dir.resolve("openssl.log")));
        }
    }

    @Override
    public void close()
    {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
        {
            final String sni = sniSeen.isEmpty() ? "?" : sniSeen.get(sniSeen.size() - 1);
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer("tls sni=" + sni + " " + request.uri(), StandardCharsets.US_ASCII));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            ctx.writeAndFlush(response);
        }
    }
}
