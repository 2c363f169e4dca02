package io.sluice.fastpath.packet;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;

/**
 * Big-endian reads and writes of a frame through its buffer's base object and address
 * ({@link DirectBuffer#byteArray()}, {@link DirectBuffer#addressOffset()}), taken into locals once per frame.
 * <p>
 * Why not the buffer's own accessors on the hottest paths: an Unsafe access whose base may be on or off heap is
 * ordered by the JIT against every other memory access, so after each one it re-reads the buffer's base and address
 * fields (three instructions per access, ~20 accesses per forwarded frame). With both in locals they stay in
 * registers. No bounds checks: callers index only within a frame whose length they have checked, as the parse stage
 * does before each read.
 */
public final class FrameBytes
{
    private static final boolean NATIVE_BIG_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;

    private FrameBytes()
    {
    }

    public static long getLong(final Object base, final long address, final int index)
    {
        final long value = UnsafeApi.getLong(base, address + index);
        return NATIVE_BIG_ENDIAN ? value : Long.reverseBytes(value);
    }

    public static int getInt(final Object base, final long address, final int index)
    {
        final int value = UnsafeApi.getInt(base, address + index);
        return NATIVE_BIG_ENDIAN ? value : Integer.reverseBytes(value);
    }

    /** The unsigned 16-bit value at {@code index}. */
    public static int getUnsignedShort(final Object base, final long address, final int index)
    {
        final short value = UnsafeApi.getShort(base, address + index);
        return (NATIVE_BIG_ENDIAN ? value : Short.reverseBytes(value)) & 0xFFFF;
    }

    public static void putLong(final Object base, final long address, final int index, final long value)
    {
        UnsafeApi.putLong(base, address + index, NATIVE_BIG_ENDIAN ? value : Long.reverseBytes(value));
    }

    public static void putInt(final Object base, final long address, final int index, final int value)
    {
        UnsafeApi.putInt(base, address + index, NATIVE_BIG_ENDIAN ? value : Integer.reverseBytes(value));
    }

    public static void putShort(final Object base, final long address, final int index, final int value)
    {
        UnsafeApi.putShort(base, address + index, NATIVE_BIG_ENDIAN ? (short)value : Short.reverseBytes((short)value));
    }

    /**
     * One's complement sum of {@code length} bytes at {@code index}, added to {@code initial}, unfolded; eight bytes a load
     * (the two 32-bit halves each add < 2^32, so the sum cannot overflow for any frame). No bounds check: the caller has
     * checked the range ({@link Checksums#sum(DirectBuffer, int, int, long)} does).
     */
    public static long sum(final Object base, final long address, final int index, final int length, final long initial)
    {
        long sum = initial;
        int i = index;
        final int end = index + length;
        while (i + 8 <= end)
        {
            final long word = getLong(base, address, i);
            sum += (word >>> 32) + (word & 0xFFFF_FFFFL);
            i += 8;
        }
        if (i + 4 <= end)
        {
            sum += getInt(base, address, i) & 0xFFFF_FFFFL;
            i += 4;
        }
        if (i + 2 <= end)
        {
            sum += getUnsignedShort(base, address, i);
            i += 2;
        }
        if (i < end)
        {
            sum += (UnsafeApi.getByte(base, address + i) & 0xFF) << 8;
        }
        return sum;
    }
}
