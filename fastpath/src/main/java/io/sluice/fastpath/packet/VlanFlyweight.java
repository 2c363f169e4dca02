package io.sluice.fastpath.packet;

import java.nio.ByteOrder;

import org.agrona.MutableDirectBuffer;

/**
 * IEEE 802.1Q tag as it follows the source MAC: the tag control information and the encapsulated EtherType
 * (the TPID 0x8100 itself is the outer EtherType, read by {@link EthernetFlyweight}).
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | PCP |D|         VLAN id       |     Encapsulated EtherType    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class VlanFlyweight
{
    public static final int TCI_OFFSET = 0;
    public static final int ETHER_TYPE_OFFSET = 2;
    public static final int HEADER_LENGTH = 4;

    private MutableDirectBuffer buffer;
    private int offset;

    public VlanFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public int vlanId()
    {
        return buffer.getShort(offset + TCI_OFFSET, ByteOrder.BIG_ENDIAN) & 0x0FFF;
    }

    public VlanFlyweight vlanId(final int vlanId)
    {
        final int tci = buffer.getShort(offset + TCI_OFFSET, ByteOrder.BIG_ENDIAN) & 0xF000;
        buffer.putShort(offset + TCI_OFFSET, (short)(tci | (vlanId & 0x0FFF)), ByteOrder.BIG_ENDIAN);
        return this;
    }

    public int etherType()
    {
        return buffer.getShort(offset + ETHER_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public VlanFlyweight etherType(final int etherType)
    {
        buffer.putShort(offset + ETHER_TYPE_OFFSET, (short)etherType, ByteOrder.BIG_ENDIAN);
        return this;
    }
}
