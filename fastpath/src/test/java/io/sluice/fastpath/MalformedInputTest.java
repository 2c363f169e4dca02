package io.sluice.fastpath;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.sluice.fastpath.ForwarderPacketTest.Family;
import io.sluice.fastpath.packet.FramePatch;

import static io.sluice.fastpath.ForwarderPacketTest.V4;
import static io.sluice.fastpath.ForwarderPacketTest.V6;
import static io.sluice.fastpath.ForwarderPacketTest.backendTcp;
import static io.sluice.fastpath.ForwarderPacketTest.clientTcp;
import static io.sluice.fastpath.ForwarderPacketTest.clientUdp;
import static io.sluice.fastpath.ForwarderPacketTest.standard;
import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.PSH;
import static io.sluice.fastpath.packet.TcpFlyweight.RST;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Malformed and unsupported input, table-driven for IPv4 and IPv6: each frame is dropped with its verdict, counted in
 * the total and in exactly its reason's counter, and an established flow through the same forwarder is undisturbed
 * (its next segment forwards byte-exact, its session stays).
 */
class MalformedInputTest
{
    private static final int ETH = 14;

    record Case(String description, Function<Family, byte[]> frame, Verdict verdict, Function<Family, FastpathCounter> reasonOf)
    {
        Case(final String description, final Function<Family, byte[]> frame, final Verdict verdict, final FastpathCounter reason)
        {
            this(description, frame, verdict, f -> reason);
        }

        @Override
        public String toString()
        {
            return description;
        }
    }

    static Stream<Arguments> cases()
    {
        final List<Arguments> all = new ArrayList<>();
        for (final Family f : List.of(V4, V6))
        {
            for (final Case c : common())
            {
                all.add(Arguments.of(f, c));
            }
            for (final Case c : f == V4 ? v4Only() : v6Only())
            {
                all.add(Arguments.of(f, c));
            }
        }
        return all.stream();
    }

    private static FastpathCounter ipTruncated(final Family f)
    {
        return f == V4 ? FastpathCounter.MALFORMED_IPV4_TRUNCATED : FastpathCounter.MALFORMED_IPV6_TRUNCATED;
    }

    private static int ipHeader(final Family f)
    {
        return f == V4 ? 20 : 40;
    }

    /** Sets the IP length field so the datagram ends {@code l4Bytes} after the IP header, then truncates there. */
    private static byte[] ipPayloadOnly(final Family f, final byte[] frame, final int l4Bytes)
    {
        final FramePatch p = FramePatch.of(frame);
        if (f == V4)
        {
            p.putShort(ETH + 2, 20 + l4Bytes).fixIpv4Checksum();
        }
        else
        {
            p.putShort(ETH + 4, l4Bytes);
        }
        return p.truncate(ETH + ipHeader(f) + l4Bytes).frame();
    }

    /** A SYN whose 4 option bytes are {@code options} (data offset 6), checksums right. */
    private static byte[] synWithOptions(final Family f, final byte... options)
    {
        final FramePatch p = FramePatch.of(clientTcp(f).flags(SYN).payload(options).build());
        p.putByte(p.l4() + 12, 6 << 4);
        return p.fixL4Checksum().frame();
    }

    static List<Case> common()
    {
        final List<Case> c = new ArrayList<>();
        c.add(new Case("Ethernet header cut short", f -> clientTcp(f).flags(SYN).truncateTo(13).build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_ETHERNET_TRUNCATED));
        c.add(new Case("802.1Q tag cut short", f -> clientTcp(f).vlan(3).flags(SYN).truncateTo(16).build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_VLAN_TRUNCATED));
        c.add(new Case("IP header cut short", f -> clientTcp(f).flags(SYN).truncateTo(ETH + ipHeader(f) - 1).build(),
            Verdict.DROP_MALFORMED, MalformedInputTest::ipTruncated));
        c.add(new Case("IP header cut short behind a VLAN tag",
            f -> clientTcp(f).vlan(7).flags(SYN).truncateTo(ETH + 4 + ipHeader(f) - 1).build(), Verdict.DROP_MALFORMED,
            MalformedInputTest::ipTruncated));
        c.add(new Case("TCP header cut short inside the datagram",
            f -> ipPayloadOnly(f, clientTcp(f).flags(SYN).build(), 10), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_TCP_TRUNCATED));
        c.add(new Case("TCP data offset below 5", f -> clientTcp(f).flags(SYN).tcpHeaderLength(16).build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_DATA_OFFSET));
        c.add(new Case("TCP data offset beyond the segment", f -> clientTcp(f).flags(SYN).tcpHeaderLength(60).build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_DATA_OFFSET));
        c.add(new Case("TCP checksum wrong on a SYN", f -> clientTcp(f).flags(SYN).badL4Checksum().build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_CHECKSUM));
        c.add(new Case("TCP checksum wrong on a RST of the live session",
            f -> clientTcp(f).flags(RST | ACK).sequence(1001, 5001).badL4Checksum().build(), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_TCP_CHECKSUM));
        c.add(new Case("TCP checksum wrong on data of the live session",
            f -> clientTcp(f).flags(ACK | PSH).sequence(1001, 5001).payload("evil").badL4Checksum().build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_CHECKSUM));
        c.add(new Case("SYN option of length 0", f -> synWithOptions(f, (byte)2, (byte)0, (byte)0, (byte)0),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_OPTIONS));
        c.add(new Case("SYN option of length 1", f -> synWithOptions(f, (byte)1, (byte)3, (byte)1, (byte)0),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_OPTIONS));
        c.add(new Case("SYN option beyond the data offset", f -> synWithOptions(f, (byte)2, (byte)8, (byte)5, (byte)0xb4),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_OPTIONS));
        c.add(new Case("SYN option kind without its length byte", f -> synWithOptions(f, (byte)1, (byte)1, (byte)1, (byte)3),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_TCP_OPTIONS));
        c.add(new Case("UDP header cut short inside the datagram", f -> ipPayloadOnly(f, clientUdp(f).build(), 6),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_UDP_TRUNCATED));
        c.add(new Case("UDP length zero", f -> udpLength(f, 0), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_UDP_LENGTH));
        c.add(new Case("UDP length beyond the datagram", f -> udpLength(f, 8 + 5 + 1), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_UDP_LENGTH));
        c.add(new Case("UDP length short of the datagram", f -> udpLength(f, 8 + 5 - 1), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_UDP_LENGTH));
        c.add(new Case("UDP checksum wrong", f -> clientUdp(f).badL4Checksum().build(), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_UDP_CHECKSUM));
        c.add(new Case("unknown EtherType (ARP)", f -> clientTcp(f).etherType(0x0806).build(), Verdict.DROP_UNSUPPORTED,
            FastpathCounter.UNSUPPORTED_ETHERTYPE));
        c.add(new Case("unknown EtherType behind a VLAN tag (LLDP)",
            f -> FramePatch.of(clientTcp(f).vlan(9).build()).putShort(16, 0x88cc).frame(), Verdict.DROP_UNSUPPORTED,
            FastpathCounter.UNSUPPORTED_ETHERTYPE));
        c.add(new Case("unknown IP protocol (GRE) on a VIP", f -> protocol(f, 47), Verdict.DROP_UNSUPPORTED,
            FastpathCounter.UNSUPPORTED_PROTOCOL));
        return c;
    }

    static List<Case> v4Only()
    {
        final List<Case> c = new ArrayList<>();
        c.add(new Case("IPv4 header cut short", f -> clientTcp(f).flags(SYN).truncateTo(ETH + 19).build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV4_TRUNCATED));
        c.add(new Case("IPv4 version field 6", f -> FramePatch.of(clientTcp(f).flags(SYN).build()).putByte(ETH, 0x65)
            .fixIpv4Checksum().frame(), Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV4_VERSION));
        c.add(new Case("IHL below 5", f -> clientTcp(f).flags(SYN).ipHeaderLength(16).build(), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_IPV4_HEADER_LENGTH));
        c.add(new Case("IHL beyond the frame", f -> FramePatch.of(clientTcp(f).flags(SYN).build()).putByte(ETH, 0x4F)
            .frame(), Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV4_HEADER_LENGTH));
        c.add(new Case("total length below IHL", f -> FramePatch.of(clientTcp(f).flags(SYN).build()).putShort(ETH + 2, 16)
            .fixIpv4Checksum().frame(), Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV4_TOTAL_LENGTH));
        c.add(new Case("total length beyond the frame", f -> FramePatch.of(clientTcp(f).flags(SYN).build())
            .putShort(ETH + 2, 41).fixIpv4Checksum().frame(), Verdict.DROP_MALFORMED,
            FastpathCounter.MALFORMED_IPV4_TOTAL_LENGTH));
        c.add(new Case("IPv4 header checksum wrong", f -> FramePatch.of(clientTcp(f).flags(SYN).build())
            .putShort(ETH + 10, 0xBEEF).frame(), Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV4_CHECKSUM));
        c.add(new Case("first fragment (MF set)", f -> clientUdp(f).fragment(true, 0).build(), Verdict.DROP_FRAGMENT,
            (FastpathCounter) null));
        c.add(new Case("last fragment (offset, no MF)", f -> clientUdp(f).fragment(false, 185).build(),
            Verdict.DROP_FRAGMENT, (FastpathCounter) null));
        c.add(new Case("middle TCP fragment", f -> clientTcp(f).flags(ACK).fragment(true, 3).build(), Verdict.DROP_FRAGMENT,
            (FastpathCounter) null));
        return c;
    }

    static List<Case> v6Only()
    {
        final List<Case> c = new ArrayList<>();
        c.add(new Case("IPv6 header cut short", f -> clientTcp(f).flags(SYN).truncateTo(ETH + 39).build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV6_TRUNCATED));
        c.add(new Case("IPv6 version field 4", f -> FramePatch.of(clientTcp(f).flags(SYN).build()).putByte(ETH, 0x40).frame(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV6_VERSION));
        c.add(new Case("payload length beyond the frame", f -> FramePatch.of(clientTcp(f).flags(SYN).build())
            .putShort(ETH + 4, 21).frame(), Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_IPV6_PAYLOAD_LENGTH));
        c.add(new Case("UDP checksum zero (forbidden over IPv6)", f -> clientUdp(f).zeroUdpChecksum().build(),
            Verdict.DROP_MALFORMED, FastpathCounter.MALFORMED_UDP_CHECKSUM));
        c.add(new Case("fragment header", f -> fragmentHeader(f), Verdict.DROP_FRAGMENT, (FastpathCounter) null));
        return c;
    }

    private static byte[] udpLength(final Family f, final int length)
    {
        final FramePatch p = FramePatch.of(clientUdp(f).build());
        return p.putShort(p.l4() + 4, length).fixL4Checksum().frame();
    }

    private static byte[] protocol(final Family f, final int protocol)
    {
        final FramePatch p = FramePatch.of(clientUdp(f).build());
        if (f == V4)
        {
            return p.putByte(ETH + 9, protocol).fixIpv4Checksum().frame();
        }
        return p.putByte(ETH + 6, protocol).frame();
    }

    /** The UDP datagram as the first fragment: a fragment header (next header 17, offset 0, M set) before it. */
    private static byte[] fragmentHeader(final Family f)
    {
        final byte[] udp = clientUdp(f).build();
        final FramePatch p = FramePatch.of(udp).insert(ETH + 40, new byte[] {17, 0, 0, 1, 0x12, 0x34, 0x56, 0x78});
        return p.putByte(ETH + 6, 44).putShort(ETH + 4, udp.length - ETH - 40 + 8).frame();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void shouldDropAndCountByReasonWithoutDisturbingOtherFlows(final Family f, final Case c)
    {
        try (Harness h = new Harness(1, 1024))
        {
            standard(f).accept(h);
            h.send(0, clientTcp(f).flags(SYN).build());
            h.send(0, backendTcp(f).flags(SYN | ACK).sequence(5000, 1001).build());
            h.send(0, clientTcp(f).flags(ACK).sequence(1001, 5001).build());
            final byte[] data = clientTcp(f).flags(ACK | PSH).sequence(1001, 5001).payload("GET / HTTP/1.1\r\n\r\n").build();
            final List<byte[]> before = h.send(0, data);
            assertThat(before).hasSize(1);
            final long[] reasonsBefore = reasonValues(h);

            final List<byte[]> out = h.send(0, c.frame().apply(f));

            assertThat(out).isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(c.verdict());
            assertThat(h.counter(c.verdict().counter())).isEqualTo(1);
            final long[] reasonsAfter = reasonValues(h);
            int moved = 0;
            for (int i = 0; i < REASONS.size(); i++)
            {
                final long delta = reasonsAfter[i] - reasonsBefore[i];
                if (delta != 0)
                {
                    moved++;
                    if (c.reasonOf().apply(f) != null)
                    {
                        assertThat(REASONS.get(i)).isEqualTo(c.reasonOf().apply(f));
                    }
                    assertThat(delta).isEqualTo(1);
                }
            }
            assertThat(moved).as("reason counters moved").isEqualTo(c.verdict() == Verdict.DROP_FRAGMENT ? 0 : 1);

            final List<byte[]> after = h.send(0, data);
            assertThat(after).hasSize(1);
            assertThat(HexFormat.of().formatHex(after.get(0))).isEqualTo(HexFormat.of().formatHex(before.get(0)));
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(1);
        }
    }

    private static final List<FastpathCounter> REASONS = Stream.of(FastpathCounter.values())
        .filter(c -> c.label().startsWith("fastpath.drop.malformed.") || c.label().startsWith("fastpath.drop.unsupported."))
        .toList();

    private static long[] reasonValues(final Harness h)
    {
        final long[] values = new long[REASONS.size()];
        for (int i = 0; i < values.length; i++)
        {
            values[i] = h.counter(REASONS.get(i));
        }
        return values;
    }
}
