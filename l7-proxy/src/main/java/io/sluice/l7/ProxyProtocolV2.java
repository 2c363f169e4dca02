package io.sluice.l7;

import java.net.Inet4Address;
import java.net.InetSocketAddress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * PROXY protocol version 2 header (haproxy doc/proxy-protocol.txt section 2.2), written once at the start of a backend
 * connection so the backend learns the client's address and the VIP it connected to.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  signature \r\n\r\n\0\r\nQUIT\n (12 bytes)                       |
 * +---------------+---------------+-------------------------------+
 * | ver 2|cmd 1   | fam|proto     |  length (big endian)          |
 * +---------------+---------------+-------------------------------+
 * | src addr (4|16) | dst addr (4|16) | src port | dst port         |
 * +-----------------------------------------------------------------+
 * </pre>
 */
final class ProxyProtocolV2
{
    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int VERSION_2_PROXY = 0x21;
    private static final int TCP_OVER_IPV4 = 0x11;
    private static final int TCP_OVER_IPV6 = 0x21;

    private ProxyProtocolV2()
    {
    }

    static ByteBuf header(final ByteBufAllocator allocator, final InetSocketAddress client, final InetSocketAddress vip)
    {
        final boolean v4 = client.getAddress() instanceof Inet4Address && vip.getAddress() instanceof Inet4Address;
        final int addressLength = v4 ? 12 : 36;
        final ByteBuf buf = allocator.buffer(16 + addressLength);
        buf.writeBytes(SIGNATURE);
        buf.writeByte(VERSION_2_PROXY);
        buf.writeByte(v4 ? TCP_OVER_IPV4 : TCP_OVER_IPV6);
        buf.writeShort(addressLength);
        buf.writeBytes(v4 ? client.getAddress().getAddress() : ipv6Bytes(client));
        buf.writeBytes(v4 ? vip.getAddress().getAddress() : ipv6Bytes(vip));
        buf.writeShort(client.getPort());
        buf.writeShort(vip.getPort());
        return buf;
    }

    private static byte[] ipv6Bytes(final InetSocketAddress address)
    {
        final byte[] raw = address.getAddress().getAddress();
        if (raw.length == 16)
        {
            return raw;
        }
        // v4 address on a v6 connection: IPv4-mapped form
        final byte[] mapped = new byte[16];
        mapped[10] = (byte)0xff;
        mapped[11] = (byte)0xff;
        System.arraycopy(raw, 0, mapped, 12, 4);
        return mapped;
    }
}
