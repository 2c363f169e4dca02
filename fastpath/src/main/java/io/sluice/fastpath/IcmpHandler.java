package io.sluice.fastpath;

import java.nio.ByteOrder;

import org.agrona.MutableDirectBuffer;

import io.sluice.fastpath.lb.ListenerState;
import io.sluice.fastpath.lb.ListenerTable;
import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.Ipv6Flyweight;
import io.sluice.fastpath.session.FlowHash;
import io.sluice.fastpath.session.SessionLayout;
import io.sluice.fastpath.session.SessionTable;

import static io.sluice.fastpath.session.SessionLayout.BACKEND_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.BACKEND_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_PORT_OFFSET;

/**
 * ICMP and ICMPv6 at the fastpath, one forwarder's (single-threaded, no allocation per message):
 * <ul>
 *   <li>Echo request (8 / 128) to a VIP: answered in place (addresses swapped, echo reply 0 / 129, hop limit 64)
 *   back out of the port and to the MAC it came from.</li>
 *   <li>Errors (v4: 3 unreachable incl. fragmentation needed, 11 time exceeded, 12 parameter problem; v6: 1
 *   unreachable, 2 packet too big, 3 time exceeded, 4 parameter problem) quoting a TCP/UDP packet sluice sent: the
 *   quoted packet is looked up as the reverse of a session direction. Quoting a packet to a backend (from the local
 *   address), the error goes to the client, outer VIP → client and quote rewritten to client:port → VIP:port (the packet
 *   the client sent); quoting a packet to a client (from the VIP), it goes to the backend, outer local → backend and
 *   quote rewritten to backend:port → local:port. The MTU of a "fragmentation needed"/"packet too big" is carried unchanged (FullNAT
 *   keeps sizes). Inner IPv4 header checksum and the quoted L4 checksum (when the quote reaches it) are updated,
 *   the outer IPv4 header and ICMP checksums recomputed (ICMP is not the hot path; a full sum is simplest and also
 *   completes a partial one).</li>
 *   <li>Anything else is dropped: no session ({@code drop.icmp.no_session}), other types or echo to a non-VIP
 *   ({@code drop.icmp.unsupported}), a quote too short or inconsistent ({@code drop.malformed.icmp_quote}).</li>
 * </ul>
 * Sessions are never changed by ICMP (as LVS: an unreachable does not end a TCP session; the endpoints decide).
 */
final class IcmpHandler
{
    static final int PROTOCOL_ICMP = 1;
    static final int PROTOCOL_ICMPV6 = 58;
    static final int HEADER_LENGTH = 8;
    /** Result: the frame is to be handed to forwarder {@link #handoffOwner()}. */
    static final int HANDOFF = -2;

    private static final int REPLY_HOP_LIMIT = 64;
    private static final int ECHO_REPLIES = FastpathCounter.ICMP_ECHO_REPLIES.slot();
    private static final int TO_CLIENT = FastpathCounter.ICMP_ERRORS_TO_CLIENT.slot();
    private static final int TO_BACKEND = FastpathCounter.ICMP_ERRORS_TO_BACKEND.slot();
    private static final int QUOTE = FastpathCounter.MALFORMED_ICMP_QUOTE.slot();
    private static final int NEIGHBOUR_REQUESTS = FastpathCounter.NEIGHBOUR_REQUESTS.slot();

    private final int index;
    private final int forwarderCount;
    private final SessionTable sessions;
    private final NeighbourTable neighbours;
    private final long[] portMacs;
    private final CounterSet global;
    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();
    private final Ipv6Flyweight ipv6 = new Ipv6Flyweight();
    private final Ipv4Flyweight innerV4 = new Ipv4Flyweight();
    private final Ipv6Flyweight innerV6 = new Ipv6Flyweight();

    private ListenerTable vipsOf;
    private long[] vipHighs = new long[0];
    private long[] vipLows = new long[0];
    private Verdict verdict = Verdict.CONTINUE;
    private int egressPort;
    private int handoffOwner;

    IcmpHandler(final int index, final int forwarderCount, final SessionTable sessions, final NeighbourTable neighbours,
        final long[] portMacs, final CounterSet global)
    {
        this.index = index;
        this.forwarderCount = forwarderCount;
        this.sessions = sessions;
        this.neighbours = neighbours;
        this.portMacs = portMacs;
        this.global = global;
    }

    Verdict verdict()
    {
        return verdict;
    }

    int egressPort()
    {
        return egressPort;
    }

    int handoffOwner()
    {
        return handoffOwner;
    }

    /**
     * @param l3 offset of the IP header; {@code l4Offset}/{@code l4Length} the ICMP message, its length and checksum
     *           already validated by the parse stage.
     * @return the length to transmit, {@link PacketPort#CONSUMED} with {@link #verdict()} the drop, or
     * {@link #HANDOFF}.
     */
    int handle(final MutableDirectBuffer buffer, final int offset, final boolean v4, final int l3, final int l4Offset,
        final int l4Length, final ListenerTable tables, final int rxPort, final boolean handedOff)
    {
        final int type = buffer.getByte(l4Offset) & 0xFF;
        if (v4 ? type == 8 : type == 128)
        {
            return echo(buffer, offset, v4, l3, l4Offset, l4Length, tables, rxPort);
        }
        final boolean error = v4 ? type == 3 || type == 11 || type == 12 : type >= 1 && type <= 4;
        if (!error)
        {
            return drop(Verdict.DROP_ICMP_UNSUPPORTED);
        }
        return error(buffer, offset, v4, l3, l4Offset, l4Length, tables, handedOff);
    }

    private int echo(final MutableDirectBuffer buffer, final int offset, final boolean v4, final int l3,
        final int l4Offset, final int l4Length, final ListenerTable tables, final int rxPort)
    {
        final long dstHigh;
        final long dstLow;
        if (v4)
        {
            ipv4.wrap(buffer, l3);
            dstHigh = 0;
            dstLow = IpAddresses.v4Low(ipv4.destination());
        }
        else
        {
            ipv6.wrap(buffer, l3);
            dstHigh = ipv6.destinationHigh();
            dstLow = ipv6.destinationLow();
        }
        if (!isVip(tables, dstHigh, dstLow))
        {
            return drop(Verdict.DROP_ICMP_UNSUPPORTED);
        }
        if (v4)
        {
            final int source = ipv4.source();
            ipv4.source(ipv4.destination()).destination(source).ttl(REPLY_HOP_LIMIT).computeChecksum();
            buffer.putByte(l4Offset, (byte)0);
        }
        else
        {
            final long sh = ipv6.sourceHigh();
            final long sl = ipv6.sourceLow();
            ipv6.source(dstHigh, dstLow).destination(sh, sl).hopLimit(REPLY_HOP_LIMIT);
            buffer.putByte(l4Offset, (byte)129);
        }
        icmpChecksum(buffer, v4, l4Offset, l4Length);
        ethernet.wrap(buffer, offset);
        ethernet.destination(ethernet.source()).source(portMacs[rxPort]);
        egressPort = rxPort;
        global.increment(ECHO_REPLIES);
        verdict = Verdict.TX;
        return 0;
    }

    private int error(final MutableDirectBuffer buffer, final int offset, final boolean v4, final int l3,
        final int l4Offset, final int l4Length, final ListenerTable tables, final boolean handedOff)
    {
        final int inner = l4Offset + HEADER_LENGTH;
        final int quoteEnd = l4Offset + l4Length;
        final int innerHeader;
        final int innerProtocol;
        final long qSrcHigh;
        final long qSrcLow;
        final long qDstHigh;
        final long qDstLow;
        final long outerDstHigh;
        final long outerDstLow;
        if (v4)
        {
            if (inner + Ipv4Flyweight.MIN_HEADER_LENGTH > quoteEnd)
            {
                return quote();
            }
            innerV4.wrap(buffer, inner);
            innerHeader = innerV4.headerLength();
            if (innerV4.version() != 4 || innerHeader < Ipv4Flyweight.MIN_HEADER_LENGTH)
            {
                return quote();
            }
            innerProtocol = innerV4.protocol();
            qSrcHigh = 0;
            qSrcLow = IpAddresses.v4Low(innerV4.source());
            qDstHigh = 0;
            qDstLow = IpAddresses.v4Low(innerV4.destination());
            outerDstHigh = 0;
            outerDstLow = IpAddresses.v4Low(ipv4.wrap(buffer, l3).destination());
        }
        else
        {
            if (inner + Ipv6Flyweight.HEADER_LENGTH > quoteEnd)
            {
                return quote();
            }
            innerV6.wrap(buffer, inner);
            if (innerV6.version() != 6)
            {
                return quote();
            }
            innerHeader = Ipv6Flyweight.HEADER_LENGTH;
            innerProtocol = innerV6.nextHeader();
            qSrcHigh = innerV6.sourceHigh();
            qSrcLow = innerV6.sourceLow();
            qDstHigh = innerV6.destinationHigh();
            qDstLow = innerV6.destinationLow();
            ipv6.wrap(buffer, l3);
            outerDstHigh = ipv6.destinationHigh();
            outerDstLow = ipv6.destinationLow();
        }
        final int innerL4 = inner + innerHeader;
        if (innerL4 + 4 > quoteEnd)
        {
            return quote();
        }
        if (innerProtocol != Ipv4Flyweight.PROTOCOL_TCP && innerProtocol != Ipv4Flyweight.PROTOCOL_UDP)
        {
            return drop(Verdict.DROP_ICMP_NO_SESSION);
        }
        final int qSrcPort = buffer.getShort(innerL4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int qDstPort = buffer.getShort(innerL4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        // An error goes to the source of the packet it quotes: that source must be this error's destination.
        if (qSrcHigh != outerDstHigh || qSrcLow != outerDstLow)
        {
            return drop(Verdict.DROP_ICMP_NO_SESSION);
        }
        // The quoted packet reversed is a packet of the session in the other direction.
        final int ref = sessions.lookup(qDstHigh, qDstLow, qSrcHigh, qSrcLow, qDstPort, qSrcPort, innerProtocol);
        if (ref == SessionTable.NOT_FOUND)
        {
            if (forwarderCount > 1 && !handedOff)
            {
                final int owner = ownerOf(tables, qDstHigh, qDstLow, qSrcHigh, qSrcLow, qDstPort, qSrcPort, innerProtocol);
                if (owner != index)
                {
                    handoffOwner = owner;
                    verdict = Verdict.HANDOFF;
                    return HANDOFF;
                }
            }
            return drop(Verdict.DROP_ICMP_NO_SESSION);
        }
        final MutableDirectBuffer r = sessions.records();
        final int base = SessionTable.offset(SessionTable.recordOf(ref));
        final boolean toClient = SessionTable.directionOf(ref) == SessionLayout.DIRECTION_REPLY;
        // New outer source and destination; the quoted packet becomes the one the error's new destination sent:
        // from it (outer destination) to the outer source.
        final long newOuterSrcHigh;
        final long newOuterSrcLow;
        final long newOuterDstHigh;
        final long newOuterDstLow;
        final int newQSrcPort;
        final int newQDstPort;
        if (toClient)
        {
            newOuterSrcHigh = r.getLong(base + VIP_ADDRESS_OFFSET);
            newOuterSrcLow = r.getLong(base + VIP_ADDRESS_OFFSET + 8);
            newOuterDstHigh = r.getLong(base + CLIENT_ADDRESS_OFFSET);
            newOuterDstLow = r.getLong(base + CLIENT_ADDRESS_OFFSET + 8);
            newQSrcPort = r.getShort(base + CLIENT_PORT_OFFSET) & 0xFFFF;
            newQDstPort = r.getShort(base + VIP_PORT_OFFSET) & 0xFFFF;
        }
        else
        {
            newOuterSrcHigh = r.getLong(base + LOCAL_ADDRESS_OFFSET);
            newOuterSrcLow = r.getLong(base + LOCAL_ADDRESS_OFFSET + 8);
            newOuterDstHigh = r.getLong(base + BACKEND_ADDRESS_OFFSET);
            newOuterDstLow = r.getLong(base + BACKEND_ADDRESS_OFFSET + 8);
            newQSrcPort = r.getShort(base + BACKEND_PORT_OFFSET) & 0xFFFF;
            newQDstPort = r.getShort(base + LOCAL_PORT_OFFSET) & 0xFFFF;
        }
        final long mac = nextHop(newOuterDstHigh, newOuterDstLow);
        if (mac == NeighbourTable.NO_MAC)
        {
            neighbours.requestResolution(newOuterDstHigh, newOuterDstLow);
            global.increment(NEIGHBOUR_REQUESTS);
            return drop(Verdict.DROP_NO_NEIGHBOUR);
        }

        // Quoted L4 checksum first (it needs the old quoted addresses), when the quote reaches it. The quoted pair of
        // addresses becomes the new outer pair (swapped), so one delta serves the pseudo header and the inner header.
        final int l4ChecksumAt = innerL4 + (innerProtocol == Ipv4Flyweight.PROTOCOL_TCP ? 16 : 6);
        final long addressDelta;
        if (v4)
        {
            addressDelta = Checksums.delta32((int)qSrcLow, (int)newOuterSrcLow) +
                Checksums.delta32((int)qDstLow, (int)newOuterDstLow);
        }
        else
        {
            addressDelta = Checksums.delta64(qSrcHigh, newOuterSrcHigh) + Checksums.delta64(qSrcLow, newOuterSrcLow) +
                Checksums.delta64(qDstHigh, newOuterDstHigh) + Checksums.delta64(qDstLow, newOuterDstLow);
        }
        if (l4ChecksumAt + 2 <= quoteEnd)
        {
            final int old = buffer.getShort(l4ChecksumAt, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            if (!(v4 && innerProtocol == Ipv4Flyweight.PROTOCOL_UDP && old == 0))
            {
                int updated = Checksums.apply(old, addressDelta + Checksums.delta16(qSrcPort, newQSrcPort) +
                    Checksums.delta16(qDstPort, newQDstPort));
                if (updated == 0 && innerProtocol == Ipv4Flyweight.PROTOCOL_UDP)
                {
                    updated = 0xFFFF;
                }
                buffer.putShort(l4ChecksumAt, (short)updated, ByteOrder.BIG_ENDIAN);
            }
        }
        buffer.putShort(innerL4, (short)newQSrcPort, ByteOrder.BIG_ENDIAN);
        buffer.putShort(innerL4 + 2, (short)newQDstPort, ByteOrder.BIG_ENDIAN);
        if (v4)
        {
            innerV4.source((int)newOuterDstLow).destination((int)newOuterSrcLow);
            // The quoted header is complete (its IHL fits in the quote): its checksum is kept valid.
            innerV4.checksum(Checksums.apply(innerV4.checksum(), addressDelta));
            ipv4.wrap(buffer, l3).source((int)newOuterSrcLow).destination((int)newOuterDstLow).computeChecksum();
        }
        else
        {
            innerV6.source(newOuterDstHigh, newOuterDstLow).destination(newOuterSrcHigh, newOuterSrcLow);
            ipv6.wrap(buffer, l3).source(newOuterSrcHigh, newOuterSrcLow).destination(newOuterDstHigh, newOuterDstLow);
        }
        icmpChecksum(buffer, v4, l4Offset, l4Length);
        ethernet.wrap(buffer, offset).destination(mac).source(portMacs[egressPort]);
        global.increment(toClient ? TO_CLIENT : TO_BACKEND);
        verdict = Verdict.TX;
        return 0;
    }

    /** Owner of the session the quoted packet belongs to, by the forwarder's ownership rule (docs/fastpath.md). */
    private int ownerOf(final ListenerTable tables, final long srcHigh, final long srcLow, final long dstHigh,
        final long dstLow, final int srcPort, final int dstPort, final int protocol)
    {
        final ListenerState listener = tables.lookup(dstHigh, dstLow, dstPort, protocol);
        if (listener == null)
        {
            // Reply direction (backend → local address:SNAT port): the SNAT port names the owner.
            return dstPort % forwarderCount;
        }
        final long hash = listener.persistenceNs > 0 ?
            FlowHash.hash(srcHigh, srcLow, dstHigh, dstLow, 0, dstPort, protocol) :
            FlowHash.hash(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
        return ForwarderAgent.ownerOf(hash, forwarderCount);
    }

    private long nextHop(final long high, final long low)
    {
        final long hop = neighbours.nextHopMac(high, low);
        if (hop == NeighbourTable.NO_MAC)
        {
            return NeighbourTable.NO_MAC;
        }
        final int slot = NeighbourTable.interfaceOf(hop);
        if (slot >= portMacs.length)
        {
            return NeighbourTable.NO_MAC;
        }
        egressPort = slot;
        return NeighbourTable.macOf(hop);
    }

    private void icmpChecksum(final MutableDirectBuffer buffer, final boolean v4, final int l4Offset, final int l4Length)
    {
        final long pseudo = v4 ? 0 : Checksums.pseudoHeaderV6(ipv6.sourceHigh(), ipv6.sourceLow(), ipv6.destinationHigh(),
            ipv6.destinationLow(), PROTOCOL_ICMPV6, l4Length);
        buffer.putShort(l4Offset + 2, (short)0);
        buffer.putShort(l4Offset + 2, (short)Checksums.finish(Checksums.sum(buffer, l4Offset, l4Length, pseudo)),
            ByteOrder.BIG_ENDIAN);
    }

    private boolean isVip(final ListenerTable tables, final long high, final long low)
    {
        if (tables != vipsOf)
        {
            indexVips(tables);
        }
        for (int i = 0; i < vipLows.length; i++)
        {
            if (vipLows[i] == low && vipHighs[i] == high)
            {
                return true;
            }
        }
        return false;
    }

    /** Once per table generation (allocates then, never per message): the distinct VIPs. */
    private void indexVips(final ListenerTable tables)
    {
        final ListenerState[] listeners = tables.listeners();
        final long[] highs = new long[listeners.length];
        final long[] lows = new long[listeners.length];
        int n = 0;
        for (final ListenerState l : listeners)
        {
            boolean seen = false;
            for (int i = 0; i < n && !seen; i++)
            {
                seen = highs[i] == l.vipHigh && lows[i] == l.vipLow;
            }
            if (!seen)
            {
                highs[n] = l.vipHigh;
                lows[n] = l.vipLow;
                n++;
            }
        }
        vipHighs = java.util.Arrays.copyOf(highs, n);
        vipLows = java.util.Arrays.copyOf(lows, n);
        vipsOf = tables;
    }

    private int quote()
    {
        global.increment(QUOTE);
        return drop(Verdict.DROP_MALFORMED);
    }

    private int drop(final Verdict drop)
    {
        verdict = drop;
        return PacketPort.CONSUMED;
    }
}
