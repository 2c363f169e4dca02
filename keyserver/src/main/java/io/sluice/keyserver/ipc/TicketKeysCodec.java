package io.sluice.keyserver.ipc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * TICKET_KEYS reply payload: rotation period ms (u64), ms until the next rotation (u64), key count u8, then per key
 * 48 bytes (name 16, HMAC key 16, AES key 16), the key to encrypt new tickets with first. Little endian.
 */
public final class TicketKeysCodec
{
    public static final int KEY_LENGTH = 48;

    private TicketKeysCodec()
    {
    }

    /** A decoded reply. */
    public record TicketKeys(long rotationPeriodMs, long msUntilNextRotation, List<byte[]> keys)
    {
    }

    public static byte[] encode(final long periodMs, final long untilNextMs, final List<byte[]> keys)
    {
        final ByteBuffer b = ByteBuffer.allocate(17 + keys.size() * KEY_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(periodMs).putLong(untilNextMs).put((byte)keys.size());
        for (final byte[] k : keys)
        {
            b.put(k, 0, KEY_LENGTH);
        }
        return b.array();
    }

    public static TicketKeys decode(final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        final long period = b.getLong();
        final long until = b.getLong();
        final int count = b.get() & 0xff;
        final List<byte[]> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            final byte[] k = new byte[KEY_LENGTH];
            b.get(k);
            keys.add(k);
        }
        return new TicketKeys(period, until, keys);
    }
}
