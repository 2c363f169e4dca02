package io.sluice.fastpath.packet;

import java.nio.ByteOrder;

import org.agrona.MutableDirectBuffer;

/**
 * IPv4 header (RFC 791), network byte order.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Identification        |Flags|      Fragment Offset    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       Source Address                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination Address                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options (IHL &gt; 5)                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * Addresses are also offered in sluice's uniform 128-bit form ({@link IpAddresses}): high word 0,
 * low word {@code 0x0000_FFFF_aaaa_aaaa} (IPv4-mapped), so one session key fits both families.
 */
public final class Ipv4Flyweight
{
    public static final int VERSION_IHL_OFFSET = 0;
    public static final int TOS_OFFSET = 1;
    public static final int TOTAL_LENGTH_OFFSET = 2;
    public static final int IDENTIFICATION_OFFSET = 4;
    public static final int FLAGS_FRAGMENT_OFFSET = 6;
    public static final int TTL_OFFSET = 8;
    public static final int PROTOCOL_OFFSET = 9;
    public static final int CHECKSUM_OFFSET = 10;
    public static final int SOURCE_OFFSET = 12;
    public static final int DESTINATION_OFFSET = 16;
    public static final int MIN_HEADER_LENGTH = 20;

    public static final int PROTOCOL_TCP = 6;
    public static final int PROTOCOL_UDP = 17;
    /** More-fragments flag and fragment offset: any bit set means this datagram is a fragment. */
    public static final int FRAGMENT_MASK = 0x3FFF;

    private MutableDirectBuffer buffer;
    private int offset;

    public Ipv4Flyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int offset()
    {
        return offset;
    }

    public int version()
    {
        return (buffer.getByte(offset + VERSION_IHL_OFFSET) >> 4) & 0xF;
    }

    /** Header length in bytes (IHL × 4). */
    public int headerLength()
    {
        return (buffer.getByte(offset + VERSION_IHL_OFFSET) & 0xF) << 2;
    }

    public Ipv4Flyweight versionAndHeaderLength(final int headerLengthBytes)
    {
        buffer.putByte(offset + VERSION_IHL_OFFSET, (byte)(0x40 | (headerLengthBytes >> 2)));
        return this;
    }

    public int tos()
    {
        return buffer.getByte(offset + TOS_OFFSET) & 0xFF;
    }

    public Ipv4Flyweight tos(final int tos)
    {
        buffer.putByte(offset + TOS_OFFSET, (byte)tos);
        return this;
    }

    public int totalLength()
    {
        return buffer.getShort(offset + TOTAL_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public Ipv4Flyweight totalLength(final int totalLength)
    {
        buffer.putShort(offset + TOTAL_LENGTH_OFFSET, (short)totalLength, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int identification()
    {
        return buffer.getShort(offset + IDENTIFICATION_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public Ipv4Flyweight identification(final int id)
    {
        buffer.putShort(offset + IDENTIFICATION_OFFSET, (short)id, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int flagsAndFragmentOffset()
    {
        return buffer.getShort(offset + FLAGS_FRAGMENT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public Ipv4Flyweight flagsAndFragmentOffset(final int value)
    {
        buffer.putShort(offset + FLAGS_FRAGMENT_OFFSET, (short)value, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public boolean isFragment()
    {
        return (flagsAndFragmentOffset() & FRAGMENT_MASK) != 0;
    }

    public int ttl()
    {
        return buffer.getByte(offset + TTL_OFFSET) & 0xFF;
    }

    public Ipv4Flyweight ttl(final int ttl)
    {
        buffer.putByte(offset + TTL_OFFSET, (byte)ttl);
        return this;
    }

    public int protocol()
    {
        return buffer.getByte(offset + PROTOCOL_OFFSET) & 0xFF;
    }

    public Ipv4Flyweight protocol(final int protocol)
    {
        buffer.putByte(offset + PROTOCOL_OFFSET, (byte)protocol);
        return this;
    }

    public int checksum()
    {
        return buffer.getShort(offset + CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public Ipv4Flyweight checksum(final int checksum)
    {
        buffer.putShort(offset + CHECKSUM_OFFSET, (short)checksum, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /** Source address as an unsigned 32-bit value. */
    public int source()
    {
        return buffer.getInt(offset + SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    public Ipv4Flyweight source(final int address)
    {
        buffer.putInt(offset + SOURCE_OFFSET, address, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int destination()
    {
        return buffer.getInt(offset + DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    public Ipv4Flyweight destination(final int address)
    {
        buffer.putInt(offset + DESTINATION_OFFSET, address, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /** Recomputes the header checksum from scratch (used by builders; the data path adjusts incrementally). */
    public Ipv4Flyweight computeChecksum()
    {
        checksum(0);
        checksum(Checksums.finish(Checksums.sum(buffer, offset, headerLength(), 0)));
        return this;
    }
}
