package io.sluice.l7;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Slowloris guard for HTTP/2 client connections, the counterpart of {@link HeaderTimeoutHandler}: sits under the HTTP/2
 * frame codec and follows the frame boundaries of the inbound bytes (RFC 9113 §4.1: a 9-byte header of 24-bit length,
 * type, flags, stream id) without consuming or copying them. The clock runs
 * <ul>
 * <li>from the connection's first byte (the client preface) to the end of its first complete header block, and</li>
 * <li>from every HEADERS frame to the end of the frame that carries END_HEADERS (the HEADERS itself or its last
 * CONTINUATION),</li>
 * </ul>
 * and a block not complete within {@code headerTimeoutSeconds} ends the connection with GOAWAY ENHANCE_YOUR_CALM,
 * counted as {@code l7.drop.client_timeout}. Netty's codec hands a stream its headers only once the block is complete,
 * so nothing of a timed-out block ever reaches a stream channel or a backend. DATA frames and the time between blocks are
 * not timed here (the body-rate floor, the request timeout and the idle timeout cover those).
 *
 * <p>Why the whole connection rather than the stream: a header block cannot be abandoned on its own. RFC 9113 §4.3 makes
 * a block one contiguous sequence of frames that no other frame may interleave, and its HPACK fragments update the
 * connection's dynamic table, so the connection's header state is unusable until the block ends. ENHANCE_YOUR_CALM
 * (RFC 9113 §7, "exhibiting a behavior that might be generating excessive load") rather than PROTOCOL_ERROR, because
 * dribbling a block breaks no protocol rule; it is a load the proxy refuses to carry.
 *
 * <p>Cost: a few field updates per frame header; the clock is read once per read that leaves a block open, and one
 * lazily re-armed timer per connection exists only while a block is open across reads (a HEADERS frame arriving whole
 * within one read, the usual case, never arms it).
 */
final class H2HeaderTimeoutHandler extends ChannelInboundHandlerAdapter
{
    static final String NAME = "h2HeaderTimeout";

    /** The client connection preface (RFC 9113 §3.4), also on TLS connections after ALPN chose h2. */
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int FRAME_HEADER_LENGTH = 9;
    private static final int TYPE_HEADERS = 0x1;
    private static final int TYPE_CONTINUATION = 0x9;
    private static final int FLAG_END_HEADERS = 0x4;
    private static final int TYPE_SETTINGS = 0x4;
    private static final int TYPE_GOAWAY = 0x7;
    private static final byte[] DEBUG_DATA = "header timeout".getBytes(StandardCharsets.US_ASCII);

    private final long timeoutNanos;
    private final AtomicCounter timeouts;
    private ChannelHandlerContext ctx;

    /** Bytes of the client preface seen so far; the frames start once all 24 have passed. */
    private int prefaceIndex;
    /** Not HTTP/2 after all (the bytes left the preface), or already timed out: bytes pass untouched. */
    private boolean passing;
    /** Bytes of the current frame header seen so far, 0..8; the fields below fill in as they arrive. */
    private int headerIndex;
    private int frameLength;
    private int frameType;
    private int frameFlags;
    /** Payload bytes of the current frame still to pass (its header is complete). */
    private int payloadRemaining;
    /** A header block has started (HEADERS seen) and its END_HEADERS frame has not fully arrived. */
    private boolean blockOpen;
    private boolean firstBlockDone;
    /** Set while a block (or, before the first block, the connection's first head) is open across reads. */
    private final LazyDeadline deadline = new LazyDeadline(this::expired);

    H2HeaderTimeoutHandler(final long timeoutNanos, final AtomicCounter timeouts)
    {
        this.timeoutNanos = timeoutNanos;
        this.timeouts = timeouts;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
        deadline.attach(ctx);
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (!passing && msg instanceof ByteBuf buf && buf.isReadable())
        {
            follow(buf);
            if (!passing && (blockOpen || !firstBlockDone))
            {
                // a block already open keeps its deadline
                deadline.startUnlessSet(timeoutNanos);
            }
            else
            {
                deadline.clear();
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** Walks the frame boundaries in the readable bytes of one read, carrying partial headers over to the next. */
    private void follow(final ByteBuf buf)
    {
        int index = buf.readerIndex();
        final int end = buf.writerIndex();
        while (prefaceIndex < PREFACE.length && index < end)
        {
            if (buf.getByte(index++) != PREFACE[prefaceIndex++])
            {
                // not the HTTP/2 preface: the detector hands these bytes to HTTP/1.1 (and removes us), or the codec
                // refuses them on an ALPN h2 connection; either way no header block of ours is in them
                passing = true;
                return;
            }
        }
        while (index < end)
        {
            if (payloadRemaining > 0)
            {
                final int skip = Math.min(payloadRemaining, end - index);
                payloadRemaining -= skip;
                index += skip;
                if (payloadRemaining == 0)
                {
                    frameEnded();
                }
            }
            else if (headerIndex == 0 && end - index >= FRAME_HEADER_LENGTH)
            {
                // the whole frame header in this read (the usual case)
                frameLength = buf.getUnsignedMedium(index);
                frameType = buf.getUnsignedByte(index + 3);
                frameFlags = buf.getUnsignedByte(index + 4);
                index += FRAME_HEADER_LENGTH;
                frameHeaderComplete();
            }
            else
            {
                final int b = buf.getUnsignedByte(index++);
                switch (headerIndex++)
                {
                    case 0, 1, 2 -> frameLength = frameLength << 8 | b;
                    case 3 -> frameType = b;
                    case 4 -> frameFlags = b;
                    case 8 -> frameHeaderComplete();
                    default ->
                    {
                        // the stream id: which stream a block belongs to is the codec's business
                    }
                }
            }
        }
    }

    private void frameHeaderComplete()
    {
        headerIndex = 0;
        if (frameType == TYPE_HEADERS)
        {
            blockOpen = true;
        }
        payloadRemaining = frameLength;
        frameLength = 0;
        if (payloadRemaining == 0)
        {
            frameEnded();
        }
    }

    private void frameEnded()
    {
        if (blockOpen && (frameType == TYPE_HEADERS || frameType == TYPE_CONTINUATION) && (frameFlags & FLAG_END_HEADERS) != 0)
        {
            blockOpen = false;
            firstBlockDone = true;
            // a block that ends within this read stops its clock; one that opens after it starts a fresh one
            deadline.clear();
        }
    }

    private void expired()
    {
        if (passing)
        {
            return;
        }
        passing = true;
        timeouts.increment();
        goAway();
    }

    private void goAway()
    {
        final ChannelHandlerContext codecContext = ctx.pipeline().context(Http2FrameCodec.class);
        if (codecContext != null)
        {
            // the codec has sent its SETTINGS: its GOAWAY names the last stream it created, so the client knows the
            // stream of the unfinished block (never created) was not processed; a GOAWAY with an error closes once written
            final Http2FrameCodec codec = (Http2FrameCodec)codecContext.handler();
            codec.goAway(codecContext, codec.connection().remote().lastStreamCreated(), Http2Error.ENHANCE_YOUR_CALM.code(),
                Unpooled.wrappedBuffer(DEBUG_DATA), codecContext.newPromise()).addListener(ChannelFutureListener.CLOSE);
            codecContext.flush();
        }
        else
        {
            // the preface is still arriving (prior knowledge: the detector holds the bytes, no codec yet). A server's
            // first frame must be SETTINGS (RFC 9113 §3.4), so an empty one goes before the GOAWAY (last stream 0)
            final ByteBuf frames = ctx.alloc().buffer(FRAME_HEADER_LENGTH * 2 + 8 + DEBUG_DATA.length);
            frames.writeMedium(0).writeByte(TYPE_SETTINGS).writeByte(0).writeInt(0);
            frames.writeMedium(8 + DEBUG_DATA.length).writeByte(TYPE_GOAWAY).writeByte(0).writeInt(0);
            frames.writeInt(0).writeInt((int)Http2Error.ENHANCE_YOUR_CALM.code()).writeBytes(DEBUG_DATA);
            ctx.writeAndFlush(frames).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        deadline.cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        deadline.cancel();
    }
}
