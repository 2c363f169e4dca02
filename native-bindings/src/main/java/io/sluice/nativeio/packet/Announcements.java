package io.sluice.nativeio.packet;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.ByteBuffer;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Telling the segment that an address moved here: a gratuitous ARP (RFC 5227 announcement: an ARP request with
 * sender and target both the address) or an unsolicited neighbour advertisement (RFC 4861 §7.2.6, override flag set,
 * to all-nodes). Neighbours that already have an entry update it to our MAC. Sent once per call on a short-lived
 * AF_PACKET socket in the calling thread's namespace (control path); callers repeat a few times, as the RFCs suggest.
 */
public final class Announcements
{
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    private static final byte[] ALL_NODES_MAC = {0x33, 0x33, 0, 0, 0, 1};
    private static final byte[] ALL_NODES = {(byte)0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    private Announcements()
    {
    }

    /** Broadcast a gratuitous ARP for {@code address} at {@code mac} on {@code ifindex}. */
    public static void gratuitousArp(final int ifindex, final byte[] mac, final Inet4Address address)
    {
        final ByteBuffer frame = ByteBuffer.allocate(42);
        frame.put(BROADCAST).put(mac).putShort((short)0x0806);
        frame.putShort((short)1).putShort((short)0x0800).put((byte)6).put((byte)4).putShort((short)1);
        frame.put(mac).put(address.getAddress()).put(new byte[6]).put(address.getAddress());
        send(ifindex, frame.array());
    }

    /** Send an unsolicited neighbour advertisement (override) for {@code address} at {@code mac} to all nodes. */
    public static void unsolicitedNeighbourAdvertisement(final int ifindex, final byte[] mac, final Inet6Address address)
    {
        final byte[] source = address.getAddress();
        final ByteBuffer icmp = ByteBuffer.allocate(32);
        icmp.put((byte)136).put((byte)0).putShort((short)0).putInt(0x20000000);
        icmp.put(source);
        icmp.put((byte)2).put((byte)1).put(mac);
        // ICMPv6 checksum over the pseudo-header (src, dst, length, next header 58) and the message.
        long sum = 0;
        final ByteBuffer pseudo = ByteBuffer.allocate(40 + 32);
        pseudo.put(source).put(ALL_NODES).putInt(32).putInt(58).put(icmp.array());
        for (int i = 0; i < pseudo.capacity(); i += 2)
        {
            sum += pseudo.getShort(i) & 0xffff;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        icmp.putShort(2, (short)~sum);
        final ByteBuffer frame = ByteBuffer.allocate(14 + 40 + 32);
        frame.put(ALL_NODES_MAC).put(mac).putShort((short)0x86dd);
        frame.putInt(0x60000000).putShort((short)32).put((byte)58).put((byte)255).put(source).put(ALL_NODES);
        frame.put(icmp.array());
        send(ifindex, frame.array());
    }

    private static void send(final int ifindex, final byte[] frame)
    {
        final int fd = NativeException.check(Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0),
            "socket(AF_PACKET)", "needs CAP_NET_RAW");
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment sll = arena.allocate(AfPacketSocket.SOCKADDR_LL);
            sll.set(JAVA_SHORT, 0, (short)Libc.AF_PACKET);
            sll.set(JAVA_INT, 4, ifindex);
            sll.set(JAVA_BYTE, 11, (byte)6);
            MemorySegment.copy(frame, 0, sll, JAVA_BYTE, 12, 6);
            final MemorySegment buffer = arena.allocate(frame.length);
            MemorySegment.copy(frame, 0, buffer, JAVA_BYTE, 0, frame.length);
            NativeException.check(Libc.sendto(fd, buffer, frame.length, 0, sll, (int)sll.byteSize()),
                "sendto(AF_PACKET announcement, ifindex " + ifindex + ")", "is the interface up?");
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
