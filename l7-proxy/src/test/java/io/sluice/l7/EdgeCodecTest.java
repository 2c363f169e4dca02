package io.sluice.l7;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The edge codecs and helpers in isolation, on EmbeddedChannel. */
class EdgeCodecTest
{
    private static HttpRequest decode(final String raw, final int maxHeaderBytes)
    {
        final EmbeddedChannel channel = new EmbeddedChannel(new EdgeRequestDecoder(maxHeaderBytes));
        channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        final HttpRequest request = channel.readInbound();
        channel.finishAndReleaseAll();
        return request;
    }

    @Test
    void shouldFailARequestFramedByBothLengthAndChunking()
    {
        final HttpRequest request = decode("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 8192);
        assertThat(request.decoderResult().isFailure()).isTrue();
        assertThat(request.decoderResult().cause()).isInstanceOf(EdgeRequestDecoder.SmugglingException.class);
    }

    @Test
    void shouldFailOversizeHeadersWithTheTooLongCause()
    {
        final HttpRequest request = decode("GET / HTTP/1.1\r\nHost: x\r\nX: " + "y".repeat(2000) + "\r\n\r\n", 1024);
        assertThat(request.decoderResult().cause()).isInstanceOf(TooLongHttpHeaderException.class);
    }

    @Test
    void shouldDecodeAValidRequest()
    {
        final HttpRequest request = decode("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n", 8192);
        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request.uri()).isEqualTo("/a?b");
    }

    @Test
    void shouldWriteNoBodyOrTerminatorForAChunkedHeadResponse()
    {
        final EdgeResponseEncoder encoder = new EdgeResponseEncoder();
        final EmbeddedChannel channel = new EmbeddedChannel(encoder);
        encoder.headRequest = true;
        final DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set("Transfer-Encoding", "chunked");
        channel.writeOutbound(response, LastHttpContent.EMPTY_LAST_CONTENT);
        final StringBuilder out = new StringBuilder();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null)
        {
            out.append(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
        }
        assertThat(out.toString()).endsWith("\r\n\r\n").doesNotContain("0\r\n\r\n");
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldRemoveHopByHopHeadersAndThoseConnectionNames()
    {
        final HttpHeaders headers = new DefaultHttpHeaders();
        headers.add("Connection", "keep-alive, X-Private");
        headers.add("X-Private", "1");
        headers.add("Keep-Alive", "timeout=5");
        headers.add("Proxy-Authorization", "Basic x");
        headers.add("TE", "trailers");
        headers.add("Transfer-Encoding", "chunked");
        headers.add("X-Kept", "1");
        FrontendHandler.stripHopByHop(headers);
        assertThat(headers.names()).containsExactlyInAnyOrder("Transfer-Encoding", "X-Kept");
    }

    @Test
    void shouldRemoveWhatEveryConnectionHeaderNamesIncludingClose()
    {
        final HttpHeaders headers = new DefaultHttpHeaders();
        headers.add("Connection", "Close");
        headers.add("Connection", "X-A ,x-b");
        headers.add("Connection", "keep-alive");
        headers.add("Close", "1");
        headers.add("X-A", "1");
        headers.add("X-B", "1");
        headers.add("X-Kept", "1");
        FrontendHandler.stripHopByHop(headers);
        assertThat(headers.names()).containsExactly("X-Kept");
    }

    @Test
    void shouldFindStripAndPrefixStickyCookies()
    {
        final HttpHeaders headers = new DefaultHttpHeaders();
        headers.add("Cookie", "a=1; SID=\"beef.value\"; b=2");
        assertThat(Cookies.requestCookie(headers, "SID")).isEqualTo("beef.value");
        assertThat(Cookies.requestCookie(headers, "none")).isNull();
        headers.set("Cookie", "a=1; SID=beef.value; b=2");
        Cookies.stripServerPrefix(headers, "SID");
        assertThat(headers.get("Cookie")).isEqualTo("a=1; SID=value; b=2");

        final HttpHeaders response = new DefaultHttpHeaders();
        response.add("Set-Cookie", "SID=value; Path=/; HttpOnly");
        response.add("Set-Cookie", "other=x");
        Cookies.prefixSetCookie(response, "SID", "beef");
        assertThat(response.getAll("Set-Cookie")).containsExactly("SID=beef.value; Path=/; HttpOnly", "other=x");
    }

    @Test
    void shouldEncodeProxyProtocolV2ForIpv4AndIpv6()
    {
        final ByteBuf v4 = ProxyProtocolV2.header(ByteBufAllocator.DEFAULT, new InetSocketAddress("198.18.0.2", 40000),
            new InetSocketAddress("198.18.0.100", 80));
        assertThat(v4.readableBytes()).isEqualTo(28);
        assertThat(v4.getByte(12)).isEqualTo((byte)0x21);
        assertThat(v4.getByte(13)).isEqualTo((byte)0x11);
        assertThat(v4.getUnsignedShort(14)).isEqualTo(12);
        assertThat(v4.getUnsignedShort(24)).isEqualTo(40000);
        assertThat(v4.getUnsignedShort(26)).isEqualTo(80);
        v4.release();
        final ByteBuf v6 = ProxyProtocolV2.header(ByteBufAllocator.DEFAULT, new InetSocketAddress("2001:2::2", 1),
            new InetSocketAddress("2001:2::100", 443));
        assertThat(v6.readableBytes()).isEqualTo(52);
        assertThat(v6.getByte(13)).isEqualTo((byte)0x21);
        v6.release();
    }

    @Test
    void shouldMatchAclCidrsForBothFamilies() throws Exception
    {
        final Acl.Matcher allow = new Acl(Acl.Mode.ALLOW, List.of("198.18.0.0/24", "2001:2::/48")).compile();
        assertThat(allow.permits(java.net.InetAddress.getByName("198.18.0.77"))).isTrue();
        assertThat(allow.permits(java.net.InetAddress.getByName("198.18.1.77"))).isFalse();
        assertThat(allow.permits(java.net.InetAddress.getByName("2001:2:0:1::1"))).isTrue();
        assertThat(allow.permits(java.net.InetAddress.getByName("2001:3::1"))).isFalse();
        assertThat(allow.permits(java.net.InetAddress.getByName("::ffff:198.18.0.5"))).isTrue();
        final Acl.Matcher deny = new Acl(Acl.Mode.DENY, List.of("198.18.0.5")).compile();
        assertThat(deny.permits(java.net.InetAddress.getByName("198.18.0.5"))).isFalse();
        assertThat(deny.permits(java.net.InetAddress.getByName("198.18.0.6"))).isTrue();
    }

    @Test
    void shouldRejectOutOfRangeConfigNamingTheField()
    {
        assertThatThrownBy(() -> new Timeouts(61, 60, 10, 3000)).hasMessage("idleTimeoutSeconds: 61 is not in 1..60");
        assertThatThrownBy(() -> new Timeouts(15, 181, 10, 3000)).hasMessage("requestTimeoutSeconds: 181 is not in 1..180");
        assertThatThrownBy(() -> new Server("198.18.10.2", 70000, 1)).hasMessage("server.port: 70000 is not in 1..65535");
        assertThatThrownBy(() -> new Acl(Acl.Mode.ALLOW, List.of("nonsense/8")))
            .hasMessage("acl.cidrs: nonsense/8 is not an IPv4 or IPv6 CIDR");
        assertThatThrownBy(() -> new StickySession(StickySession.Type.SERVER, 0, null))
            .hasMessageContaining("stickySession.cookieName");
        assertThatThrownBy(() -> HttpListener.builder("l", "127.0.0.1", 80).serverGroup("missing").build())
            .hasMessage("l.serverGroup: missing names no server group");
        assertThatThrownBy(() -> new Redirect("ftp", 21)).hasMessageContaining("redirectTo.protocol");
    }
}
