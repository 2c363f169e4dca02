package io.sluice.keyserver.ipc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * GET_CHAIN reply payload: kind (1 certificate+key, 2 CA) u8, key id (32), cert count u8, then per cert
 * (u32 length, DER). Little endian. Built off the hot path (chains are fetched once per listener).
 */
public final class ChainCodec
{
    private ChainCodec()
    {
    }

    /** A decoded reply. */
    public record Chain(int kind, byte[] keyId, List<byte[]> certificatesDer)
    {
    }

    public static byte[] encode(final int kind, final byte[] keyId, final List<byte[]> ders)
    {
        int length = 1 + 32 + 1;
        for (final byte[] d : ders)
        {
            length += 4 + d.length;
        }
        final ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte)kind).put(keyId).put((byte)ders.size());
        for (final byte[] d : ders)
        {
            b.putInt(d.length).put(d);
        }
        return b.array();
    }

    public static Chain decode(final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        final int kind = b.get();
        final byte[] keyId = new byte[32];
        b.get(keyId);
        final int count = b.get() & 0xff;
        final List<byte[]> ders = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            final byte[] d = new byte[b.getInt()];
            b.get(d);
            ders.add(d);
        }
        return new Chain(kind, keyId, ders);
    }
}
