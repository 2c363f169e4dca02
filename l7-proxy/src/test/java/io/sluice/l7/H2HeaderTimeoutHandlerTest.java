package io.sluice.l7;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import org.agrona.concurrent.status.AtomicCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/2 header clock: on EmbeddedChannel with Netty's real server codec under it (blocks in time pass, a block left
 * open past the timeout gets GOAWAY ENHANCE_YOUR_CALM, close and the counter; a slow preface; frames split across reads;
 * a slow DATA frame is not timed), then through a running proxy with a raw-socket client dribbling CONTINUATION frames
 * while curl is served over h2c on the same listener.
 */
class H2HeaderTimeoutHandlerTest
{
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int SETTINGS = 0x4;
    private static final int RST_STREAM = 0x3;
    private static final int PING = 0x6;
    private static final int GOAWAY = 0x7;
    private static final int CONTINUATION = 0x9;
    private static final int END_STREAM = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final AtomicCounter timeouts = ProxyTests.counters().newCounter("l7.drop.client_timeout[test]",
        L7Counter.HEADER_TIMEOUT_DROPS.typeId());
    /** What reached stream channels above the codec: header frames' paths and DATA byte counts. */
    private final List<String> streamEvents = new CopyOnWriteArrayList<>();

    /**
     * Netty's server codec under the clock. Streams start at 3 here: on an EmbeddedChannel (no server channel parent) the
     * multiplexer takes stream 1 for a client's h2c upgrade stream.
     */
    private EmbeddedChannel h2Channel()
    {
        final EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(H2HeaderTimeoutHandler.NAME, new H2HeaderTimeoutHandler(TIMEOUT_NANOS, timeouts));
        addCodec(channel);
        return channel;
    }

    /** Netty's server codec and the HTTP/2 idle timeout of 1 s, on a channel whose clock the test advances. */
    private EmbeddedChannel idleChannel()
    {
        final EmbeddedChannel channel = new EmbeddedChannel();
        channel.freezeTime();
        addCodec(channel);
        channel.pipeline().addLast("h2idle", new H2PriorKnowledgeDetector.IdleConnectionCloser(TimeUnit.SECONDS.toNanos(1)));
        return channel;
    }

    /** The detector with the listener's HTTP/2 header clock (1 s) in front of it, as on a cleartext http2 listener. */
    private static EmbeddedChannel detectorChannel(final ListenerRuntime runtime)
    {
        final EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(H2HeaderTimeoutHandler.NAME, H2PriorKnowledgeDetector.headerTimeout(runtime));
        channel.pipeline().addLast("h2detect", new H2PriorKnowledgeDetector(runtime, TransportSupport.of(Transport.NIO), null));
        return channel;
    }

    private static ListenerRuntime embeddedRuntime()
    {
        return new ListenerRuntime(HttpListener.builder("embedded", "198.18.0.100", 80).http2(true)
            .serverGroup("app").serverGroups(List.of(new ServerGroup("app", List.of(new Server("198.18.10.2", 8080, 100)))))
            .timeouts(new Timeouts(15, 60, 1, 1000)).build(), Upstream.DEFAULT, ProxyTests.counters());
    }

    /** A running proxy with one h2c listener (idle and header timeouts 1 s) in front of {@code backend}. */
    private static L7Proxy h2cProxy(final int port, final TestBackend backend)
    {
        return L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder("web/h2c", "127.0.0.1", port).http2(true)
            .serverGroup("app").serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
            .timeouts(new Timeouts(1, 60, 1, 1000)).build())), ProxyTests.counters());
    }

    private void addCodec(final EmbeddedChannel channel)
    {
        channel.pipeline().addLast("h2", Http2FrameCodecBuilder.forServer().build());
        channel.pipeline().addLast("h2mux", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>()
        {
            @Override
            protected void initChannel(final Http2StreamChannel stream)
            {
                stream.pipeline().addLast(new ChannelInboundHandlerAdapter()
                {
                    @Override
                    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
                    {
                        if (msg instanceof Http2HeadersFrame headers)
                        {
                            streamEvents.add("headers " + headers.headers().path());
                        }
                        else if (msg instanceof Http2DataFrame data)
                        {
                            streamEvents.add("data " + data.content().readableBytes());
                        }
                        ReferenceCountUtil.release(msg);
                    }
                });
            }
        }));
    }

    static byte[] frame(final int type, final int flags, final int streamId, final byte[] payload)
    {
        final ByteBuf buf = Unpooled.buffer(9 + payload.length);
        buf.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(streamId).writeBytes(payload);
        return ByteBufUtil.getBytes(buf);
    }

    /** A request header block (HPACK, a fresh encoder per connection, as a client's would be). */
    static byte[] headerBlock(final DefaultHttp2HeadersEncoder encoder, final String path, final int padBytes) throws Exception
    {
        final Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("http").authority("x").path(path);
        if (padBytes > 0)
        {
            headers.add("x-pad", "0123456789".repeat(padBytes / 10 + 1).substring(0, padBytes));
        }
        final ByteBuf out = Unpooled.buffer();
        encoder.encodeHeaders(1, headers, out);
        return ByteBufUtil.getBytes(out);
    }

    static byte[] slice(final byte[] bytes, final int from, final int to)
    {
        return Arrays.copyOfRange(bytes, from, to);
    }

    static byte[] concat(final byte[]... parts)
    {
        final ByteBuf buf = Unpooled.buffer();
        for (final byte[] part : parts)
        {
            buf.writeBytes(part);
        }
        return ByteBufUtil.getBytes(buf);
    }

    private static byte[] connectionStart()
    {
        return concat(PREFACE, frame(SETTINGS, 0, 0, new byte[0]));
    }

    private static void send(final EmbeddedChannel channel, final byte[] bytes)
    {
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    private static void sendBytewise(final EmbeddedChannel channel, final byte[] bytes)
    {
        for (final byte b : bytes)
        {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
    }

    private static void advance(final EmbeddedChannel channel, final long millis)
    {
        channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    /** The frames the server wrote, as "type:streamId" plus, for GOAWAY, ":lastStreamId:errorCode". */
    private static List<String> written(final EmbeddedChannel channel)
    {
        final ByteBuf all = Unpooled.buffer();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null)
        {
            all.writeBytes(buf);
            buf.release();
        }
        return frames(ByteBufUtil.getBytes(all));
    }

    static List<String> frames(final byte[] bytes)
    {
        final ByteBuf all = Unpooled.wrappedBuffer(bytes);
        final List<String> frames = new ArrayList<>();
        while (all.readableBytes() >= 9)
        {
            final int length = all.readUnsignedMedium();
            final int type = all.readUnsignedByte();
            all.readUnsignedByte();
            final int streamId = all.readInt();
            if (all.readableBytes() < length)
            {
                break;
            }
            final ByteBuf payload = all.readSlice(length);
            if (type == GOAWAY)
            {
                frames.add("GOAWAY:" + streamId + ":" + payload.getInt(0) + ":" + payload.getUnsignedInt(4));
            }
            else
            {
                frames.add(type + ":" + streamId);
            }
        }
        return frames;
    }

    private static String goAway(final int lastStreamId)
    {
        return "GOAWAY:0:" + lastStreamId + ":" + Http2Error.ENHANCE_YOUR_CALM.code();
    }

    @Test
    void shouldPassAHeaderBlockCompletedInTimeToItsStream() throws Exception
    {
        final EmbeddedChannel channel = h2Channel();
        final byte[] block = headerBlock(new DefaultHttp2HeadersEncoder(), "/in-time", 100);
        send(channel, connectionStart());
        send(channel, frame(HEADERS, END_STREAM, 3, slice(block, 0, 20)));
        advance(channel, 400);
        send(channel, frame(CONTINUATION, 0, 3, slice(block, 20, 50)));
        advance(channel, 400);
        send(channel, frame(CONTINUATION, END_HEADERS, 3, slice(block, 50, block.length)));
        // long after the block ended and the first clock's deadline passed: nothing happens
        advance(channel, 5_000);

        assertThat(streamEvents).containsExactly("headers /in-time");
        assertThat(written(channel)).doesNotContain(goAway(0), goAway(3));
        assertThat(channel.isActive()).isTrue();
        assertThat(timeouts.get()).isZero();
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldSendGoAwayCloseAndCountWhenABlockStaysOpenPastTheTimeout() throws Exception
    {
        final EmbeddedChannel channel = h2Channel();
        final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
        final byte[] first = headerBlock(encoder, "/first", 0);
        final byte[] slow = headerBlock(encoder, "/slow", 100);
        send(channel, concat(connectionStart(), frame(HEADERS, END_HEADERS | END_STREAM, 3, first)));
        // the second block dribbles: a CONTINUATION every 400 ms keeps the connection busy but never ends the block
        send(channel, frame(HEADERS, END_STREAM, 5, slice(slow, 0, 10)));
        advance(channel, 400);
        send(channel, frame(CONTINUATION, 0, 5, slice(slow, 10, 20)));
        advance(channel, 400);
        send(channel, frame(CONTINUATION, 0, 5, slice(slow, 20, 30)));
        assertThat(channel.isActive()).isTrue();
        advance(channel, 300);

        assertThat(written(channel)).contains(goAway(3));
        assertThat(channel.isActive()).isFalse();
        assertThat(timeouts.get()).isEqualTo(1);
        assertThat(streamEvents).containsExactly("headers /first");
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldTimeAConnectionWhoseFirstHeaderBlockNeverComes()
    {
        final EmbeddedChannel channel = h2Channel();
        send(channel, connectionStart());
        advance(channel, 900);
        assertThat(channel.isActive()).isTrue();
        advance(channel, 200);

        assertThat(written(channel)).contains(goAway(0));
        assertThat(channel.isActive()).isFalse();
        assertThat(timeouts.get()).isEqualTo(1);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldAnswerASlowPrefaceWithSettingsAndGoAwayBeforeTheCodecIsInstalled()
    {
        final ListenerRuntime runtime = embeddedRuntime();
        final EmbeddedChannel channel = detectorChannel(runtime);
        sendBytewise(channel, slice(PREFACE, 0, 16));
        advance(channel, 1_100);

        assertThat(written(channel)).containsExactly(SETTINGS + ":0", goAway(0));
        assertThat(channel.isActive()).isFalse();
        assertThat(runtime.counters.get(L7Counter.HEADER_TIMEOUT_DROPS)).isEqualTo(1);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldLeaveHttp1ToItsOwnHeaderTimeout()
    {
        final ListenerRuntime runtime = embeddedRuntime();
        final EmbeddedChannel channel = detectorChannel(runtime);
        // "PUT" shares its first byte with the preface
        send(channel, "PUT / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(channel.pipeline().get(H2HeaderTimeoutHandler.NAME)).isNull();
        assertThat(channel.pipeline().get("h2detect")).isNull();
        advance(channel, 2_000);

        assertThat(channel.isActive()).isTrue();
        assertThat(runtime.counters.get(L7Counter.HEADER_TIMEOUT_DROPS)).isZero();
        final ByteBuf passed = channel.readInbound();
        assertThat(passed.toString(StandardCharsets.US_ASCII)).startsWith("PUT / HTTP/1.1");
        passed.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldFollowFrameBoundariesSplitAcrossReads() throws Exception
    {
        final EmbeddedChannel channel = h2Channel();
        final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
        final byte[] first = headerBlock(encoder, "/first", 40);
        final byte[] second = headerBlock(encoder, "/second", 0);
        final byte[] third = headerBlock(encoder, "/third", 40);
        // one byte per read, 5 ms apart: every frame header and payload is cut at every position
        final byte[] inTime = concat(connectionStart(),
            frame(HEADERS, 0, 3, slice(first, 0, 7)), frame(CONTINUATION, END_HEADERS, 3, slice(first, 7, first.length)),
            frame(DATA, END_STREAM, 3, new byte[33]),
            frame(HEADERS, END_HEADERS | END_STREAM, 5, second));
        for (final byte b : inTime)
        {
            send(channel, new byte[] {b});
            advance(channel, 5);
        }
        advance(channel, 3_000);
        assertThat(streamEvents).containsExactly("headers /first", "data 33", "headers /second");
        assertThat(channel.isActive()).isTrue();

        // the same cutting, but the third block never ends: its clock started at its HEADERS frame
        sendBytewise(channel, concat(frame(HEADERS, END_STREAM, 7, slice(third, 0, 9)), frame(CONTINUATION, 0, 7, slice(third, 9, 20))));
        advance(channel, 900);
        assertThat(channel.isActive()).isTrue();
        advance(channel, 200);
        assertThat(written(channel)).contains(goAway(5));
        assertThat(channel.isActive()).isFalse();
        assertThat(timeouts.get()).isEqualTo(1);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldNotTimeABigDataFrameArrivingSlowly() throws Exception
    {
        final EmbeddedChannel channel = h2Channel();
        final byte[] block = headerBlock(new DefaultHttp2HeadersEncoder(), "/upload", 0);
        send(channel, concat(connectionStart(), frame(HEADERS, END_HEADERS, 3, block)));
        // a 16 KiB DATA frame (the default maximum) in 17 pieces 500 ms apart: 8.5 s for one frame, the clock stays off
        final byte[] data = frame(DATA, END_STREAM, 3, new byte[16_384]);
        for (int offset = 0; offset < data.length; offset += 1024)
        {
            send(channel, slice(data, offset, Math.min(data.length, offset + 1024)));
            advance(channel, 500);
        }
        advance(channel, 2_000);

        assertThat(channel.isActive()).isTrue();
        assertThat(timeouts.get()).isZero();
        assertThat(written(channel)).doesNotContain(goAway(0), goAway(3));
        assertThat(streamEvents.get(0)).isEqualTo("headers /upload");
        assertThat(streamEvents.stream().filter(e -> e.startsWith("data "))
            .mapToInt(e -> Integer.parseInt(e.substring(5))).sum()).isEqualTo(16_384);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldCloseAnIdleHttp2ConnectionOnlyWhenNoStreamIsOpenForTheIdleTimeout() throws Exception
    {
        final EmbeddedChannel busy = idleChannel();
        send(busy, concat(connectionStart(), frame(HEADERS, END_HEADERS, 3, headerBlock(new DefaultHttp2HeadersEncoder(), "/open", 0))));
        busy.advanceTimeBy(5, TimeUnit.SECONDS);
        busy.runScheduledPendingTasks();
        assertThat(busy.isActive()).as("a stream is open").isTrue();
        busy.finishAndReleaseAll();

        final EmbeddedChannel idle = idleChannel();
        send(idle, connectionStart());
        for (int i = 0; i < 4; i++)
        {
            // a PING every 300 ms is no activity: no stream was opened
            idle.advanceTimeBy(300, TimeUnit.MILLISECONDS);
            send(idle, frame(PING, 0, 0, new byte[8]));
            idle.runScheduledPendingTasks();
            idle.runPendingTasks();
        }
        assertThat(written(idle)).contains("GOAWAY:0:0:" + Http2Error.NO_ERROR.code());
        assertThat(idle.isActive()).as("closed 1 s after its start despite the PINGs").isFalse();
        idle.finishAndReleaseAll();
    }

    @Test
    void shouldCloseAnHttp2ConnectionTheIdleTimeoutAfterItsLastStreamClosed() throws Exception
    {
        final EmbeddedChannel channel = idleChannel();
        send(channel, concat(connectionStart(), frame(HEADERS, END_HEADERS, 3, headerBlock(new DefaultHttp2HeadersEncoder(), "/a", 0))));
        channel.advanceTimeBy(3, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isActive()).isTrue();
        // the client resets its stream: from here the clock runs
        send(channel, frame(RST_STREAM, 0, 3, new byte[] {0, 0, 0, 8}));
        channel.advanceTimeBy(900, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isActive()).as("0.9 s after the last stream closed").isTrue();
        channel.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
        assertThat(channel.isActive()).as("1.1 s after the last stream closed").isFalse();
        channel.finishAndReleaseAll();
    }

    // ---- through a running proxy ----

    @Test
    void shouldCloseAnIdleH2cConnectionAfterItsRequestWithGoAway() throws Exception
    {
        final int port = ProxyTests.freePort();
        try (TestBackend backend = new TestBackend("h2");
            L7Proxy proxy = h2cProxy(port, backend);
            Socket client = new Socket("127.0.0.1", port))
        {
            // one complete request, then silence: the 1 s idle timeout ends the connection (the read timeout is 10 s)
            client.setSoTimeout(10_000);
            client.getOutputStream().write(concat(connectionStart(),
                frame(HEADERS, END_HEADERS | END_STREAM, 1, headerBlock(new DefaultHttp2HeadersEncoder(), "/once", 0))));
            client.getOutputStream().flush();
            final List<String> frames = frames(readUntilClosed(client.getInputStream()));

            assertThat(frames).contains(HEADERS + ":1", DATA + ":1", "GOAWAY:0:1:" + Http2Error.NO_ERROR.code());
            assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/once");
            assertThat(proxy.counter("web/h2c", L7Counter.HEADER_TIMEOUT_DROPS)).isZero();
        }
    }

    @Test
    void shouldCloseAnH2cConnectionThatOnlyPingsAfterItsRequest() throws Exception
    {
        final int port = ProxyTests.freePort();
        try (TestBackend backend = new TestBackend("h2");
            L7Proxy proxy = h2cProxy(port, backend);
            Socket client = new Socket("127.0.0.1", port))
        {
            client.setSoTimeout(10_000);
            final OutputStream out = client.getOutputStream();
            out.write(concat(connectionStart(),
                frame(HEADERS, END_HEADERS | END_STREAM, 1, headerBlock(new DefaultHttp2HeadersEncoder(), "/once", 0))));
            out.flush();
            // then only PINGs, every 200 ms: more often than the 1 s idle timeout, but no stream
            final Thread pinger = Thread.ofPlatform().daemon().start(() ->
            {
                try
                {
                    while (!Thread.currentThread().isInterrupted())
                    {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                        out.write(frame(PING, 0, 0, new byte[8]));
                        out.flush();
                    }
                }
                catch (final IOException ex)
                {
                    // the proxy closed the connection: expected
                }
            });
            final List<String> frames;
            try
            {
                frames = frames(readUntilClosed(client.getInputStream()));
            }
            finally
            {
                pinger.interrupt();
            }
            assertThat(frames).contains(HEADERS + ":1", "GOAWAY:0:1:" + Http2Error.NO_ERROR.code());
            assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/once");
        }
    }

    /**
     * Writes the preface, SETTINGS and a HEADERS frame for {@code path} without END_HEADERS, then one CONTINUATION byte
     * every 150 ms (never the last); returns what the proxy sent back until it closed (or 10 s passed).
     */
    static byte[] dribbleHeaderBlock(final Socket socket, final String path) throws Exception
    {
        socket.setSoTimeout(10_000);
        final byte[] block = headerBlock(new DefaultHttp2HeadersEncoder(), path, 300);
        final OutputStream out = socket.getOutputStream();
        out.write(concat(connectionStart(), frame(HEADERS, END_STREAM, 1, slice(block, 0, 10))));
        out.flush();
        final Thread dribble = Thread.ofPlatform().daemon().start(() ->
        {
            try
            {
                for (int i = 10; i < block.length - 1 && !Thread.currentThread().isInterrupted(); i++)
                {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(150));
                    out.write(frame(CONTINUATION, 0, 1, slice(block, i, i + 1)));
                    out.flush();
                }
            }
            catch (final IOException ex)
            {
                // the proxy closed the connection: expected
            }
        });
        try
        {
            return readUntilClosed(socket.getInputStream());
        }
        finally
        {
            dribble.interrupt();
        }
    }

    private static byte[] readUntilClosed(final InputStream in) throws IOException
    {
        final ByteBuf all = Unpooled.buffer();
        final byte[] buf = new byte[4096];
        try
        {
            int n;
            while ((n = in.read(buf)) > 0)
            {
                all.writeBytes(buf, 0, n);
            }
        }
        catch (final IOException ex)
        {
            // a timeout, a reset or a TLS close without close_notify: what arrived so far is the answer
        }
        return ByteBufUtil.getBytes(all);
    }

    @Test
    void shouldEndASlowH2cHeaderBlockWhileServingANormalH2Client() throws Exception
    {
        final String listener = "web/h2c";
        final int port = ProxyTests.freePort();
        try (TestBackend backend = new TestBackend("h2");
            L7Proxy proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(listener, "127.0.0.1", port).http2(true)
                .serverGroup("app").serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
                .timeouts(new Timeouts(15, 60, 1, 1000)).build())), ProxyTests.counters());
            Socket slow = new Socket("127.0.0.1", port))
        {
            final List<byte[]> answer = new CopyOnWriteArrayList<>();
            final Thread slowClient = Thread.ofPlatform().start(() ->
            {
                try
                {
                    answer.add(dribbleHeaderBlock(slow, "/slow"));
                }
                catch (final Exception ex)
                {
                    answer.add(new byte[0]);
                }
            });
            // a normal h2c client is served while the slow one dribbles
            final Curl.Result normal = Curl.get("http://127.0.0.1:" + port + "/normal", "--http2-prior-knowledge");
            assertThat(normal.headers()).startsWith("HTTP/2 200");
            slowClient.join(15_000);

            assertThat(frames(answer.get(0))).startsWith(SETTINGS + ":0").contains(goAway(0));
            assertThat(proxy.counter(listener, L7Counter.HEADER_TIMEOUT_DROPS)).isEqualTo(1);
            assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/normal");
        }
    }

    @Test
    void shouldEndASlowHeaderBlockOnAnAlpnH2ConnectionWhileServingANormalH2Client(@TempDir final Path dir) throws Exception
    {
        final String listener = "web/h2";
        final int port = ProxyTests.freePort();
        final SslContext context = serverContext(dir, "www.example.com");
        try (TestBackend backend = new TestBackend("h2");
            L7Proxy proxy = L7Proxy.start(new ProxyConfig(List.of(HttpListener.builder(listener, "127.0.0.1", port)
                .protocol("https").http2(true).tls(host -> context)
                .serverGroup("app").serverGroups(List.of(new ServerGroup("app", List.of(backend.asServer(100)))))
                .timeouts(new Timeouts(15, 60, 1, 1000)).build())), ProxyTests.counters());
            SSLSocket slow = (SSLSocket)trustingClient().getSocketFactory().createSocket("127.0.0.1", port))
        {
            final SSLParameters parameters = slow.getSSLParameters();
            parameters.setApplicationProtocols(new String[] {"h2"});
            parameters.setServerNames(List.of(new SNIHostName("www.example.com")));
            slow.setSSLParameters(parameters);
            slow.startHandshake();
            assertThat(slow.getApplicationProtocol()).isEqualTo("h2");
            final List<byte[]> answer = new CopyOnWriteArrayList<>();
            final Thread slowClient = Thread.ofPlatform().start(() ->
            {
                try
                {
                    answer.add(dribbleHeaderBlock(slow, "/slow"));
                }
                catch (final Exception ex)
                {
                    answer.add(new byte[0]);
                }
            });
            final Curl.Result normal = Curl.get("https://www.example.com:" + port + "/normal", "-k",
                "--resolve", "www.example.com:" + port + ":127.0.0.1");
            assertThat(normal.headers()).startsWith("HTTP/2 200");
            slowClient.join(15_000);

            assertThat(frames(answer.get(0))).startsWith(SETTINGS + ":0").contains(goAway(0));
            assertThat(proxy.counter(listener, L7Counter.HEADER_TIMEOUT_DROPS)).isEqualTo(1);
            assertThat(backend.seen).extracting(TestBackend.Seen::uri).containsExactly("/normal");
        }
    }

    private static SslContext serverContext(final Path dir, final String host) throws Exception
    {
        final Path key = dir.resolve(host + ".key");
        final Path cert = dir.resolve(host + ".crt");
        final Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=" + host,
            "-addext", "subjectAltName=DNS:" + host).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(openssl.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).isZero();
        return SslContextBuilder.forServer(cert.toFile(), key.toFile())
            .sslProvider(SslProvider.OPENSSL)
            .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
            .build();
    }

    /** A JDK TLS client that trusts the test's self-signed certificate (any certificate: this is a loopback test). */
    private static SSLContext trustingClient() throws Exception
    {
        final SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {new X509TrustManager()
        {
            @Override
            public void checkClientTrusted(final X509Certificate[] chain, final String authType)
            {
                // no client certificates in this test
            }

            @Override
            public void checkServerTrusted(final X509Certificate[] chain, final String authType)
            {
                // the proxy's self-signed test certificate, on loopback
            }

            @Override
            public X509Certificate[] getAcceptedIssuers()
            {
                return new X509Certificate[0];
            }
        }}, null);
        return ssl;
    }
}
