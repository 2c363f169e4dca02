package io.sluice.l7;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The client-side handler on EmbeddedChannel: local answers (redirect, rejections, header timeout) need no backend. */
class FrontendHandlerTest
{
    private ListenerRuntime runtime;

    private EmbeddedChannel channel(final HttpListener listener)
    {
        runtime = new ListenerRuntime(listener, Upstream.DEFAULT, ProxyTests.counters());
        final EdgeResponseEncoder encoder = new EdgeResponseEncoder();
        final FrontendHandler frontend = new FrontendHandler(runtime, TransportSupport.of(Transport.NIO), null, encoder);
        final HeaderTimeoutHandler timer = new HeaderTimeoutHandler(TimeUnit.SECONDS.toNanos(1), frontend::onHeaderTimeout);
        frontend.headerTimer(timer);
        final EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast("headerTimeout", timer);
        channel.pipeline().addLast("decoder", new EdgeRequestDecoder(listener.maxHeaderBytes()));
        channel.pipeline().addLast("encoder", encoder);
        channel.pipeline().addLast("frontend", frontend);
        return channel;
    }

    private static HttpListener.Builder base()
    {
        return HttpListener.builder("embedded", "198.18.0.100", 80).serverGroup("app")
            .serverGroups(List.of(new ServerGroup("app", List.of(new Server("198.18.10.2", 8080, 100)))));
    }

    private static String written(final EmbeddedChannel channel)
    {
        final StringBuilder out = new StringBuilder();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null)
        {
            out.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return out.toString();
    }

    private static void send(final EmbeddedChannel channel, final String raw)
    {
        channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
    }

    @Test
    void shouldRedirectAndKeepTheConnectionForTheNextRequest()
    {
        final EmbeddedChannel channel = channel(base().rules(List.of(new Rule("old.example.com", null, null,
            new Redirect("https", 443, 301)))).build());
        send(channel, "GET /p?q=1 HTTP/1.1\r\nHost: old.example.com\r\n\r\nGET /again HTTP/1.1\r\nHost: old.example.com\r\n\r\n");
        final String out = written(channel);
        assertThat(out).startsWith("HTTP/1.1 301 Moved Permanently\r\n").contains("location: https://old.example.com/p?q=1");
        assertThat(out).contains("location: https://old.example.com/again");
        assertThat(channel.isActive()).isTrue();
        assertThat(runtime.counters.get(L7Counter.REDIRECTS)).isEqualTo(2);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldAnswerASmuggledRequestWith400AndClose()
    {
        final EmbeddedChannel channel = channel(base().build());
        send(channel, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assertThat(written(channel)).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close");
        channel.runPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        assertThat(runtime.counters.get(L7Counter.SMUGGLING_DROPS)).isEqualTo(1);
    }

    @Test
    void shouldAnswer413ForADeclaredBodyOverTheLimit()
    {
        final EmbeddedChannel channel = channel(base().maxBodyBytes(10).build());
        send(channel, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
        assertThat(written(channel)).startsWith("HTTP/1.1 413 Request Entity Too Large\r\n");
        assertThat(runtime.counters.get(L7Counter.BODY_TOO_LARGE_DROPS)).isEqualTo(1);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldAnswer408WhenTheHeadDoesNotCompleteInTime()
    {
        final EmbeddedChannel channel = channel(base().build());
        send(channel, "GET / HTTP/1.1\r\nHost: x\r\n");
        channel.advanceTimeBy(1100, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(written(channel)).startsWith("HTTP/1.1 408 Request Timeout\r\n");
        assertThat(runtime.counters.get(L7Counter.HEADER_TIMEOUT_DROPS)).isEqualTo(1);
        channel.finishAndReleaseAll();
    }
}
