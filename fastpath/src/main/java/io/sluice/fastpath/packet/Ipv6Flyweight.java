package io.sluice.fastpath.packet;

import java.nio.ByteOrder;

import org.agrona.MutableDirectBuffer;

/**
 * IPv6 fixed header (RFC 8200), network byte order.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version| Traffic Class |           Flow Label                  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Payload Length        |  Next Header  |   Hop Limit   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Source Address (16 octets)                    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |               Destination Address (16 octets)                 |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * Addresses are read as two big-endian longs (high, low).
 */
public final class Ipv6Flyweight
{
    public static final int VERSION_CLASS_FLOW_OFFSET = 0;
    public static final int PAYLOAD_LENGTH_OFFSET = 4;
    public static final int NEXT_HEADER_OFFSET = 6;
    public static final int HOP_LIMIT_OFFSET = 7;
    public static final int SOURCE_OFFSET = 8;
    public static final int DESTINATION_OFFSET = 24;
    public static final int HEADER_LENGTH = 40;

    private MutableDirectBuffer buffer;
    private int offset;

    public Ipv6Flyweight wrap(final MutableDirectBuffer buffer, final int offset)
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
        return (buffer.getByte(offset) >> 4) & 0xF;
    }

    public Ipv6Flyweight versionClassFlow(final int trafficClass, final int flowLabel)
    {
        buffer.putInt(offset, (6 << 28) | ((trafficClass & 0xFF) << 20) | (flowLabel & 0xF_FFFF), ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int payloadLength()
    {
        return buffer.getShort(offset + PAYLOAD_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public Ipv6Flyweight payloadLength(final int length)
    {
        buffer.putShort(offset + PAYLOAD_LENGTH_OFFSET, (short)length, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int nextHeader()
    {
        return buffer.getByte(offset + NEXT_HEADER_OFFSET) & 0xFF;
    }

    public Ipv6Flyweight nextHeader(final int nextHeader)
    {
        buffer.putByte(offset + NEXT_HEADER_OFFSET, (byte)nextHeader);
        return this;
    }

    public int hopLimit()
    {
        return buffer.getByte(offset + HOP_LIMIT_OFFSET) & 0xFF;
    }

    public Ipv6Flyweight hopLimit(final int hopLimit)
    {
        buffer.putByte(offset + HOP_LIMIT_OFFSET, (byte)hopLimit);
        return this;
    }

    public long sourceHigh()
    {
        return buffer.getLong(offset + SOURCE_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    public long sourceLow()
    {
        return buffer.getLong(offset + SOURCE_OFFSET + 8, ByteOrder.BIG_ENDIAN);
    }

    public Ipv6Flyweight source(final long high, final long low)
    {
        buffer.putLong(offset + SOURCE_OFFSET, high, ByteOrder.BIG_ENDIAN);
        buffer.putLong(offset + SOURCE_OFFSET + 8, low, ByteOrder.BIG_ENDIAN);
        return this;
    }

    public long destinationHigh()
    {
        return buffer.getLong(offset + DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    public long destinationLow()
    {
        return buffer.getLong(offset + DESTINATION_OFFSET + 8, ByteOrder.BIG_ENDIAN);
    }

    public Ipv6Flyweight destination(final long high, final long low)
    {
        buffer.putLong(offset + DESTINATION_OFFSET, high, ByteOrder.BIG_ENDIAN);
        buffer.putLong(offset + DESTINATION_OFFSET + 8, low, ByteOrder.BIG_ENDIAN);
        return this;
    }
}
