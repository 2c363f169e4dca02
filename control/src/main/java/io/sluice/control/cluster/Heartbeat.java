package io.sluice.control.cluster;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The cluster datagram (docs/cluster.md), version 1, big-endian:
 * <pre>
 *  0  u32  magic "SLCL"
 *  4  u8   version (1)
 *  5  u8   type (1 = heartbeat)
 *  6  u16  sender's live node count (itself included), as it sees the cluster
 *  8  i64  incarnation: the sender's start time, epoch ms (a restarted node is a new incarnation)
 * 16  i64  sequence: +1 per datagram within an incarnation, from 1
 * 24  i64  timestamp: the sender's wall clock, epoch ms
 * 32  u8   node name length n (1..63), then n bytes of the name (US-ASCII)
 * 33+n     HMAC-SHA256 over bytes 0 .. 33+n-1 with the cluster key (32 bytes)
 * </pre>
 * Later types (session sync) keep bytes 0..32+n and the trailing MAC and put their body between.
 * One instance per thread (it holds a {@link Mac}).
 */
public final class Heartbeat
{
    public static final int MAGIC = 0x534C434C;
    public static final int VERSION = 1;
    public static final int TYPE_HEARTBEAT = 1;
    public static final int MAC_BYTES = 32;
    public static final int MAX_NAME_BYTES = 63;
    public static final int HEADER_BYTES = 33;
    public static final int MAX_BYTES = HEADER_BYTES + MAX_NAME_BYTES + MAC_BYTES;
    /** Shortest key accepted: 128 bits. */
    public static final int MIN_KEY_BYTES = 16;

    /** What {@link #decode} found. */
    public enum Check
    {
        OK, MALFORMED, BAD_MAC
    }

    private final Mac mac;
    private final byte[] computed = new byte[MAC_BYTES];

    // Fields of the last datagram decoded with OK.
    private int liveNodes;
    private long incarnation;
    private long sequence;
    private long timestampMs;
    private String name;

    public Heartbeat(final byte[] key)
    {
        if (key.length < MIN_KEY_BYTES)
        {
            throw new IllegalArgumentException("cluster key: " + key.length + " bytes, at least " + MIN_KEY_BYTES + " needed");
        }
        try
        {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("HmacSHA256 unavailable", ex);
        }
    }

    /** Writes a heartbeat at the buffer's position; the buffer is flipped, ready to send. */
    public void encode(final ByteBuffer out, final String node, final int live, final long incarnationMs, final long seq,
        final long nowMs)
    {
        final byte[] nameBytes = node.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length > MAX_NAME_BYTES)
        {
            throw new IllegalArgumentException("node name: " + nameBytes.length + " bytes, 1.." + MAX_NAME_BYTES + " allowed");
        }
        out.clear();
        out.putInt(MAGIC).put((byte)VERSION).put((byte)TYPE_HEARTBEAT).putShort((short)Math.min(live, 0xFFFF))
            .putLong(incarnationMs).putLong(seq).putLong(nowMs).put((byte)nameBytes.length).put(nameBytes);
        mac.update(out.array(), out.arrayOffset(), out.position());
        try
        {
            mac.doFinal(computed, 0);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException(ex);
        }
        out.put(computed);
        out.flip();
    }

    /** Checks and reads a datagram of {@code length} bytes at the start of {@code data}. */
    public Check decode(final byte[] data, final int length)
    {
        if (length < HEADER_BYTES + 1 + MAC_BYTES || length > MAX_BYTES)
        {
            return Check.MALFORMED;
        }
        final ByteBuffer in = ByteBuffer.wrap(data, 0, length);
        final int n = data[32] & 0xFF;
        if (in.getInt(0) != MAGIC || data[4] != VERSION || data[5] != TYPE_HEARTBEAT || n == 0 || n > MAX_NAME_BYTES
            || length != HEADER_BYTES + n + MAC_BYTES)
        {
            return Check.MALFORMED;
        }
        mac.update(data, 0, HEADER_BYTES + n);
        try
        {
            mac.doFinal(computed, 0);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException(ex);
        }
        final byte[] received = java.util.Arrays.copyOfRange(data, HEADER_BYTES + n, length);
        // Constant time: a MAC must not be guessable byte by byte from response timing.
        if (!MessageDigest.isEqual(computed, received))
        {
            return Check.BAD_MAC;
        }
        liveNodes = in.getShort(6) & 0xFFFF;
        incarnation = in.getLong(8);
        sequence = in.getLong(16);
        timestampMs = in.getLong(24);
        name = new String(data, HEADER_BYTES, n, StandardCharsets.US_ASCII);
        return Check.OK;
    }

    public int liveNodes()
    {
        return liveNodes;
    }

    public long incarnation()
    {
        return incarnation;
    }

    public long sequence()
    {
        return sequence;
    }

    public long timestampMs()
    {
        return timestampMs;
    }

    public String name()
    {
        return name;
    }
}
