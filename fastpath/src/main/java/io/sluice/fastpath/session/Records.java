package io.sluice.fastpath.session;

import org.agrona.UnsafeApi;

/**
 * Native-order reads and writes of {@link SessionLayout} fields at an absolute address
 * ({@link SessionTable#address(int)} plus the field's offset), for the established flow's path: through the records
 * buffer, every access pays a bounds check and re-reads the buffer's address after each other Unsafe access. The same
 * bytes as {@link SessionTable#records()} reads; callers pass only addresses of records they got from the table.
 */
public final class Records
{
    private Records()
    {
    }

    public static long getLong(final long address)
    {
        return UnsafeApi.getLong(null, address);
    }

    public static int getInt(final long address)
    {
        return UnsafeApi.getInt(null, address);
    }

    public static byte getByte(final long address)
    {
        return UnsafeApi.getByte(null, address);
    }

    /** The unsigned 16-bit field at {@code address} (ids, ports, flags). */
    public static int getUnsignedShort(final long address)
    {
        return UnsafeApi.getShort(null, address) & 0xFFFF;
    }

    public static void putLong(final long address, final long value)
    {
        UnsafeApi.putLong(null, address, value);
    }

    public static void putInt(final long address, final int value)
    {
        UnsafeApi.putInt(null, address, value);
    }

    public static void putShort(final long address, final short value)
    {
        UnsafeApi.putShort(null, address, value);
    }

    public static void putByte(final long address, final byte value)
    {
        UnsafeApi.putByte(null, address, value);
    }
}
