package io.sluice.l7;

import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;

/**
 * WebSocket over HTTP/2 (RFC 8441) to an HTTP/1.1 WebSocket backend, first handler of an HTTP/2 stream channel.
 * <p>
 * The listener advertises {@code SETTINGS_ENABLE_CONNECT_PROTOCOL}; a stream opening with {@code :method CONNECT} and
 * {@code :protocol websocket} is rewritten, before the HTTP/2 → HTTP/1 codec, into the HTTP/1.1 upgrade request the
 * backend expects (RFC 8441 section 5: GET, a fresh {@code Sec-WebSocket-Key}, the client's version/protocol/extensions
 * headers; {@link FrontendHandler} adds {@code Upgrade: websocket} and {@code Connection: Upgrade}), so it
 * proxies it as any upgrade. The backend's {@code 101} goes back as {@code :status 200} (its {@code Sec-WebSocket-Accept}
 * answers our key, not anything the client sent, and is dropped). Once {@link FrontendHandler} enters its tunnel and
 * removes the codec, this handler turns the stream's DATA frames into raw bytes and back: WebSocket frames pass through
 * unchanged in both directions (HTTP/2 carries them as the stream's data).
 */
final class ExtendedConnectHandler extends ChannelDuplexHandler
{
    static final AsciiString WEBSOCKET = AsciiString.cached("websocket");
    private static final AsciiString SEC_WEBSOCKET_ACCEPT = AsciiString.cached("sec-websocket-accept");
    private boolean extendedConnect;

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (msg instanceof Http2HeadersFrame frame && !extendedConnect && isWebSocketConnect(frame.headers()))
        {
            extendedConnect = true;
            final Http2Headers headers = frame.headers();
            headers.remove(Http2Headers.PseudoHeaderName.PROTOCOL.value());
            headers.method(HttpMethod.GET.asciiName());
            if (headers.scheme() == null)
            {
                headers.scheme("http");
            }
            final byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            headers.set(HttpHeaderNames.SEC_WEBSOCKET_KEY, Base64.getEncoder().encodeToString(nonce));
            ctx.fireChannelRead(frame);
            return;
        }
        if (msg instanceof Http2DataFrame data && tunnelling(ctx))
        {
            // the stream's bytes are the WebSocket frames: handed on raw, released by whoever relays them
            ctx.fireChannelRead(data.content());
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * Whether this stream opened with an extended CONNECT for a WebSocket. The HTTP/2 → HTTP/1 conversion drops the
     * connection-specific {@code Upgrade}/{@code Connection} headers set on the frame, so {@link FrontendHandler} asks here
     * and puts them back on the HTTP/1.1 request.
     */
    static boolean isWebSocket(final Channel stream)
    {
        final ChannelHandlerContext ctx = stream.pipeline().context(ExtendedConnectHandler.class);
        return ctx != null && ((ExtendedConnectHandler)ctx.handler()).extendedConnect;
    }

    /**
     * The backend's 101 as the HTTP/2 answer to an extended CONNECT: {@code :status 200} with the backend's headers less
     * the connection-specific ones and its {@code Sec-WebSocket-Accept}; written under the HTTP/2 → HTTP/1 codec, which has
     * no mapping for a 101.
     *
     * @return false when the stream did not open with an extended CONNECT (the caller answers as usual).
     */
    static boolean answerUpgrade(final Channel stream, final HttpResponse response)
    {
        final ChannelHandlerContext ctx = stream.pipeline().context(ExtendedConnectHandler.class);
        if (ctx == null || !((ExtendedConnectHandler)ctx.handler()).extendedConnect)
        {
            return false;
        }
        final HttpHeaders headers = response.headers();
        headers.remove(SEC_WEBSOCKET_ACCEPT);
        final Http2Headers out = HttpConversionUtil.toHttp2Headers(headers, true);
        out.status(HttpResponseStatus.OK.codeAsText());
        ctx.write(new DefaultHttp2HeadersFrame(out, false), ctx.voidPromise());
        return true;
    }

    @Override
    public void write(final ChannelHandlerContext ctx, final Object msg, final ChannelPromise promise)
    {
        if (msg instanceof ByteBuf buf && tunnelling(ctx))
        {
            ctx.write(new DefaultHttp2DataFrame(buf), promise);
            return;
        }
        ctx.write(msg, promise);
    }

    private boolean tunnelling(final ChannelHandlerContext ctx)
    {
        return extendedConnect && ctx.pipeline().get("h2codec") == null;
    }

    static boolean isWebSocketConnect(final Http2Headers headers)
    {
        return HttpMethod.CONNECT.asciiName().contentEquals(headers.method()) &&
            WEBSOCKET.contentEqualsIgnoreCase(headers.get(Http2Headers.PseudoHeaderName.PROTOCOL.value()));
    }
}
