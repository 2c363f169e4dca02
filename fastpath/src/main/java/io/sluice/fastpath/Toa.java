package io.sluice.fastpath;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.Ipv6Flyweight;
import io.sluice.fastpath.packet.TcpFlyweight;

/**
 * TOA ("TCP option address", Alibaba's LVS): TCP option kind 254 carrying the client's port and address to the
 * backend, whose TOA kernel module makes {@code getpeername} return them. IPv4: length 8 (kind, length, port, IPv4
 * address); IPv6: length 20 (kind, length, port, IPv6 address), as Alibaba's IPv6 TOA patch defines. Sluice adds it
 * to the ACK that completes the handshake towards the backend (a backend's TOA module reads it there) and, on
 * listeners without synProxy, lowers the MSS the backend's SYN-ACK advertises to the client by the option's length,
 * so that ACK still fits when it carries a full segment of data.
 */
public final class Toa
{
    public static final int KIND = 254;
    public static final int LENGTH_V4 = 8;
    public static final int LENGTH_V6 = 20;

    private Toa()
    {
    }

    public static int length(final boolean v4)
    {
        return v4 ? LENGTH_V4 : LENGTH_V6;
    }

    /** Writes the option at {@code index}: kind, length, port (network order), address (network order). */
    public static void write(final MutableDirectBuffer buffer, final int index, final boolean v4, final int port,
        final long addressHigh, final long addressLow)
    {
        buffer.putByte(index, (byte)KIND);
        buffer.putByte(index + 1, (byte)length(v4));
        buffer.putShort(index + 2, (short)port, ByteOrder.BIG_ENDIAN);
        if (v4)
        {
            buffer.putInt(index + 4, (int)addressLow, ByteOrder.BIG_ENDIAN);
        }
        else
        {
            buffer.putLong(index + 4, addressHigh, ByteOrder.BIG_ENDIAN);
            buffer.putLong(index + 12, addressLow, ByteOrder.BIG_ENDIAN);
        }
    }

    /** Largest IP datagram a frame with the option may become (a 1500-byte MTU). */
    public static final int MAX_IP_LENGTH = 1500;

    /**
     * Copies a TCP frame into {@code out} with the option inserted after its TCP header (before any payload; Ethernet
     * padding dropped), fixing the data offset, IP length, IPv4 header checksum and the TCP checksum (recomputed).
     *
     * @param l3       offset of the IP header in {@code frame}.
     * @param l4       offset of the TCP header.
     * @param ipLength the IP datagram's length.
     * @return the new frame length in {@code out}, or -1 when the header or the MTU has no room for it.
     */
    public static int insert(final DirectBuffer frame, final int offset, final int l3, final int l4, final int ipLength,
        final boolean v4, final int port, final long addressHigh, final long addressLow, final MutableDirectBuffer out)
    {
        final int optionLength = length(v4);
        final int tcpHeader = ((frame.getByte(l4 + TcpFlyweight.DATA_OFFSET_OFFSET) >> 4) & 0xF) * 4;
        if (tcpHeader + optionLength > 60 || ipLength + optionLength > MAX_IP_LENGTH ||
            l3 - offset + ipLength + optionLength > out.capacity())
        {
            return -1;
        }
        final int headEnd = l4 + tcpHeader;
        final int datagramEnd = l3 + ipLength;
        final int head = headEnd - offset;
        out.putBytes(0, frame, offset, head);
        write(out, head, v4, port, addressHigh, addressLow);
        out.putBytes(head + optionLength, frame, headEnd, datagramEnd - headEnd);
        final int outL3 = l3 - offset;
        final int outL4 = l4 - offset;
        final int tcpLength = datagramEnd - l4 + optionLength;
        out.putByte(outL4 + TcpFlyweight.DATA_OFFSET_OFFSET, (byte)(((tcpHeader + optionLength) / 4) << 4 |
            (out.getByte(outL4 + TcpFlyweight.DATA_OFFSET_OFFSET) & 0x0F)));
        out.putShort(outL4 + TcpFlyweight.CHECKSUM_OFFSET, (short)0);
        final long pseudo;
        if (v4)
        {
            final int headerLength = (out.getByte(outL3) & 0x0F) * 4;
            out.putShort(outL3 + Ipv4Flyweight.TOTAL_LENGTH_OFFSET, (short)(ipLength + optionLength), ByteOrder.BIG_ENDIAN);
            out.putShort(outL3 + Ipv4Flyweight.CHECKSUM_OFFSET, (short)0);
            out.putShort(outL3 + Ipv4Flyweight.CHECKSUM_OFFSET,
                (short)Checksums.finish(Checksums.sum(out, outL3, headerLength, 0)), ByteOrder.BIG_ENDIAN);
            pseudo = Checksums.pseudoHeaderV4(out.getInt(outL3 + Ipv4Flyweight.SOURCE_OFFSET, ByteOrder.BIG_ENDIAN),
                out.getInt(outL3 + Ipv4Flyweight.DESTINATION_OFFSET, ByteOrder.BIG_ENDIAN), Ipv4Flyweight.PROTOCOL_TCP,
                tcpLength);
        }
        else
        {
            out.putShort(outL3 + Ipv6Flyweight.PAYLOAD_LENGTH_OFFSET, (short)tcpLength, ByteOrder.BIG_ENDIAN);
            pseudo = Checksums.sum(out, outL3 + Ipv6Flyweight.SOURCE_OFFSET, 32, Ipv4Flyweight.PROTOCOL_TCP + tcpLength);
        }
        out.putShort(outL4 + TcpFlyweight.CHECKSUM_OFFSET, (short)Checksums.finish(Checksums.sum(out, outL4, tcpLength,
            pseudo)), ByteOrder.BIG_ENDIAN);
        return outL3 + ipLength + optionLength;
    }
}
