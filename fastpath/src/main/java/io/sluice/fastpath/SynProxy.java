package io.sluice.fastpath;

import java.nio.ByteOrder;
import java.security.SecureRandom;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.Ipv6Flyweight;
import io.sluice.fastpath.packet.TcpFlyweight;

/**
 * SYN cookies and the segments a {@code synProxy} listener's forwarder writes itself (after LVS/DPVS SYNPROXY and
 * Linux syncookies, re-derived, not copied).
 * <p>
 * <b>Cookie</b> (the ISN of the SYN-ACK sent to the client), 32 bits:
 * <pre>
 *   31 30 29 28 27                                                 0
 *  +-----+-----+---------------------------------------------------+
 *  | t&3 | mss |   SipHash-2-4(key; client, VIP, ports, client ISN, t, mss) &amp; 0x0FFFFFFF   |
 *  +-----+-----+---------------------------------------------------+
 * </pre>
 * {@code t} counts {@link #PERIOD_NS} periods (~68.7 s) of the forwarder's clock; the key is mixed with the full
 * counter, so each period has its own key (the rotation) and a cookie verifies in its own period and the next one
 * (68–137 s old at most). {@code mss} indexes {@link #MSS_TABLE} (the largest entry not above the client's MSS). The
 * client ISN is bound into the hash, so an ACK must carry seq = ISN + 1 and ack = cookie + 1 of the same SYN.
 * The key is random per forwarder (128 bits from SecureRandom): the ACK comes back to the same forwarder by the
 * ownership hash. A forger guesses 28 bits per try.
 * <p>
 * <b>Options.</b> The SYN-ACK carries MSS only: no window scaling, SACK or timestamps (DPVS encodes them in the
 * timestamp; sluice does not), and the SYN to the backend likewise, so both ends agree there are none; a synProxy
 * connection's window is at most 64 KiB.
 * <p>
 * Segments are written into a 2 KiB scratch frame (a SYN to the backend is longer than the client's ACK it replaces;
 * a frame handed over from another forwarder sits in a ring that must not be written past its length); the forwarder
 * sends the scratch frame through the egress port. Single-threaded: one instance per forwarder.
 */
public final class SynProxy
{
    /** MSS values a cookie can carry (2 bits): 536 (RFC 9293 default), 1220 (IPv6 1280 MTU), 1440, 1460. */
    public static final int[] MSS_TABLE = {536, 1220, 1440, 1460};
    public static final long PERIOD_NS = 1L << 36;
    public static final int SCRATCH_BYTES = 2048;
    public static final int TCP_OPTION_MSS = 2;
    private static final int HASH_MASK = 0x0FFF_FFFF;
    private static final int WINDOW = 65535;
    private static final int TTL = 64;

    private final long k0;
    private final long k1;
    /** Client segments held while the backend has not answered yet (per forwarder), replayed once it has. */
    public static final int HELD_SLOTS = 64;
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[SCRATCH_BYTES]);
    private final FrameSlots held = new FrameSlots(HELD_SLOTS, SCRATCH_BYTES);
    private final UnsafeBuffer replay = new UnsafeBuffer(new byte[SCRATCH_BYTES]);
    private final int[] heldRecords = new int[HELD_SLOTS];
    private final long[] heldKeys = new long[HELD_SLOTS];
    private int heldCursor;
    private int heldCount;
    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();
    private final Ipv6Flyweight ipv6 = new Ipv6Flyweight();
    private final TcpFlyweight tcp = new TcpFlyweight();

    public SynProxy()
    {
        this(new SecureRandom().nextLong(), new SecureRandom().nextLong());
    }

    /** A fixed key (tests and benchmarks). */
    public SynProxy(final long k0, final long k1)
    {
        this.k0 = k0;
        this.k1 = k1;
    }

    public UnsafeBuffer scratch()
    {
        return scratch;
    }

    /**
     * Keeps a copy of a client segment of session {@code record} (flow key {@code key}) that arrived before the backend
     * answered: the client sends its request right after its ACK, usually before the backend's SYN-ACK is back, and a
     * dropped request costs it a retransmission timeout (200 ms to seconds). A ring of {@link #HELD_SLOTS}: the oldest
     * held segment is overwritten when full (its client retransmits it).
     *
     * @return false when the frame is too long to hold.
     */
    public boolean hold(final DirectBuffer buffer, final int offset, final int length, final int record, final long key)
    {
        if (!held.fits(length))
        {
            return false;
        }
        final int slot = heldCursor;
        heldCursor = (heldCursor + 1) % HELD_SLOTS;
        if (held.length(slot) == 0)
        {
            heldCount++;
        }
        held.put(slot, buffer, offset, length);
        heldRecords[slot] = record;
        heldKeys[slot] = key;
        return true;
    }

    /**
     * Takes the oldest held segment of {@code record} with flow key {@code key} into {@link #replayBuffer()}.
     *
     * @return its length, or 0 when none is left.
     */
    public int takeHeld(final int record, final long key)
    {
        if (heldCount == 0)
        {
            return 0;
        }
        for (int i = 0; i < HELD_SLOTS; i++)
        {
            final int slot = (heldCursor + i) % HELD_SLOTS;
            final int length = held.length(slot);
            if (length != 0 && heldRecords[slot] == record && heldKeys[slot] == key)
            {
                replay.putBytes(0, held.buffer(), held.offset(slot), length);
                held.clear(slot);
                heldCount--;
                return length;
            }
        }
        return 0;
    }

    public UnsafeBuffer replayBuffer()
    {
        return replay;
    }

    /** The key {@link #hold} and {@link #takeHeld} match a session's segments with. */
    public static long heldKey(final long clientLow, final int clientPort)
    {
        return clientLow * 31 + clientPort;
    }

    /** MSS option of a SYN (0 when absent or the options are malformed). */
    public static int mssOption(final DirectBuffer buffer, final int tcpOffset, final int headerLength)
    {
        final int at = mssOptionOffset(buffer, tcpOffset, headerLength);
        return at < 0 ? 0 : buffer.getShort(at, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    /** Offset of the MSS option's value in a TCP header, or -1. */
    public static int mssOptionOffset(final DirectBuffer buffer, final int tcpOffset, final int headerLength)
    {
        int i = tcpOffset + TcpFlyweight.MIN_HEADER_LENGTH;
        final int end = tcpOffset + headerLength;
        while (i + 1 < end)
        {
            final int kind = buffer.getByte(i) & 0xFF;
            if (kind == 0)
            {
                return -1;
            }
            if (kind == 1)
            {
                i++;
                continue;
            }
            final int length = buffer.getByte(i + 1) & 0xFF;
            if (length < 2 || i + length > end)
            {
                return -1;
            }
            if (kind == TCP_OPTION_MSS && length == 4)
            {
                return i + 2;
            }
            i += length;
        }
        return -1;
    }

    /** Index of the largest table MSS not above {@code mss}; a SYN without MSS gets 536 (RFC 9293). */
    public static int mssIndex(final int mss)
    {
        for (int i = MSS_TABLE.length - 1; i > 0; i--)
        {
            if (mss >= MSS_TABLE[i])
            {
                return i;
            }
        }
        return 0;
    }

    /** The cookie for a SYN from (src, srcPort) to (dst, dstPort) with ISN {@code clientIsn}. */
    public int cookie(final long nowNs, final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int clientIsn, final int mssIndex)
    {
        final long counter = nowNs / PERIOD_NS;
        return (int)((counter & 3) << 30) | (mssIndex << 28) |
            hash(counter, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, clientIsn, mssIndex);
    }

    /**
     * Checks the cookie an ACK returns ({@code ack - 1}) against its ISN ({@code seq - 1}).
     *
     * @return the MSS index it carries, or -1 when it does not verify (forged, or older than two periods).
     */
    public int verify(final long nowNs, final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int clientIsn, final int cookie)
    {
        final long now = nowNs / PERIOD_NS;
        final int t = cookie >>> 30;
        final long counter = (now & 3) == t ? now : ((now - 1) & 3) == t ? now - 1 : -1;
        if (counter < 0)
        {
            return -1;
        }
        final int mssIndex = (cookie >>> 28) & 3;
        final int expected = hash(counter, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, clientIsn, mssIndex);
        return expected == (cookie & HASH_MASK) ? mssIndex : -1;
    }

    private int hash(final long counter, final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int clientIsn, final int mssIndex)
    {
        final long ports = ((long)srcPort << 48) | ((long)dstPort << 32) | (clientIsn & 0xFFFF_FFFFL);
        return (int)SipHash.hash24(k0 ^ counter, k1, srcHigh, srcLow, dstHigh, dstLow, ports, counter << 2 | mssIndex) &
            HASH_MASK;
    }

    /**
     * Writes a TCP segment without payload into the scratch frame: the input frame's link header up to
     * {@code l3Offset} (MACs replaced), a fresh IP header (IPv4: 20 bytes, DF, TTL 64; IPv6: hop limit 64), the TCP
     * header with an MSS option when {@code mss} > 0 and a TOA option when {@code toaLength} > 0, full checksums.
     *
     * @return the frame length in the scratch buffer.
     */
    public int writeSegment(final DirectBuffer frame, final int offset, final int l3Offset, final long dstMac,
        final long srcMac, final boolean v4, final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int seq, final int ack, final int flags, final int mss,
        final int toaPort, final long toaHigh, final long toaLow)
    {
        final int l2 = l3Offset - offset;
        scratch.putBytes(0, frame, offset, l2);
        io.sluice.fastpath.packet.EthernetFlyweight.writeMac(scratch, 0, dstMac);
        io.sluice.fastpath.packet.EthernetFlyweight.writeMac(scratch, 6, srcMac);
        final int toaLength = toaPort < 0 ? 0 : Toa.length(v4);
        final int tcpLength = TcpFlyweight.MIN_HEADER_LENGTH + (mss > 0 ? 4 : 0) + toaLength;
        final int ipHeader = v4 ? Ipv4Flyweight.MIN_HEADER_LENGTH : Ipv6Flyweight.HEADER_LENGTH;
        final int l4 = l2 + ipHeader;
        final long pseudo;
        if (v4)
        {
            ipv4.wrap(scratch, l2).versionAndHeaderLength(Ipv4Flyweight.MIN_HEADER_LENGTH).tos(0)
                .totalLength(ipHeader + tcpLength).identification(0).flagsAndFragmentOffset(0x4000).ttl(TTL)
                .protocol(Ipv4Flyweight.PROTOCOL_TCP).source((int)srcLow).destination((int)dstLow).computeChecksum();
            pseudo = Checksums.pseudoHeaderV4((int)srcLow, (int)dstLow, Ipv4Flyweight.PROTOCOL_TCP, tcpLength);
        }
        else
        {
            ipv6.wrap(scratch, l2).versionClassFlow(0, 0).payloadLength(tcpLength).nextHeader(Ipv4Flyweight.PROTOCOL_TCP)
                .hopLimit(TTL).source(srcHigh, srcLow).destination(dstHigh, dstLow);
            pseudo = Checksums.pseudoHeaderV6(srcHigh, srcLow, dstHigh, dstLow, Ipv4Flyweight.PROTOCOL_TCP, tcpLength);
        }
        tcp.wrap(scratch, l4).sourcePort(srcPort).destinationPort(dstPort).sequence(seq).acknowledgment(ack)
            .headerLength(tcpLength).flags(flags).window(WINDOW).checksum(0);
        scratch.putShort(l4 + TcpFlyweight.URGENT_OFFSET, (short)0);
        int option = l4 + TcpFlyweight.MIN_HEADER_LENGTH;
        if (mss > 0)
        {
            scratch.putByte(option, (byte)TCP_OPTION_MSS);
            scratch.putByte(option + 1, (byte)4);
            scratch.putShort(option + 2, (short)mss, ByteOrder.BIG_ENDIAN);
            option += 4;
        }
        if (toaLength > 0)
        {
            Toa.write(scratch, option, v4, toaPort, toaHigh, toaLow);
        }
        tcp.checksum(Checksums.finish(Checksums.sum(scratch, l4, tcpLength, pseudo)));
        return l4 + tcpLength;
    }

    /**
     * Sequence translation of an established synProxy session after the FullNAT rewrite (so the checksum is complete):
     * the backend numbers its bytes from its own ISN, the client from the cookie; {@code delta = cookie - backend ISN}.
     * Client to backend: ack − delta; backend to client: seq + delta. SACK is never negotiated, so no blocks.
     */
    public static void translate(final MutableDirectBuffer buffer, final int tcpOffset, final boolean fromClient,
        final int delta, final int tcpFlags)
    {
        final int field = tcpOffset + (fromClient ? TcpFlyweight.ACKNOWLEDGMENT_OFFSET : TcpFlyweight.SEQUENCE_OFFSET);
        if (fromClient && (tcpFlags & TcpFlyweight.ACK) == 0)
        {
            return;
        }
        final int old = buffer.getInt(field, ByteOrder.BIG_ENDIAN);
        final int updated = fromClient ? old - delta : old + delta;
        replace32(buffer, tcpOffset, field, old, updated);
    }

    /** Replaces a 32-bit word of a TCP header with an RFC 1624 checksum update. */
    public static void replace32(final MutableDirectBuffer buffer, final int tcpOffset, final int field, final int old,
        final int updated)
    {
        buffer.putInt(field, updated, ByteOrder.BIG_ENDIAN);
        final int checksumOffset = tcpOffset + TcpFlyweight.CHECKSUM_OFFSET;
        final int checksum = buffer.getShort(checksumOffset, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        buffer.putShort(checksumOffset, (short)Checksums.apply(checksum, Checksums.delta32(old, updated)),
            ByteOrder.BIG_ENDIAN);
    }
}
