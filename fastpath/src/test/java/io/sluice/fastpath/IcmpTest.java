package io.sluice.fastpath;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.sluice.fastpath.ForwarderPacketTest.Family;
import io.sluice.fastpath.packet.FramePatch;
import io.sluice.fastpath.packet.IcmpFrames;
import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.ForwarderPacketTest.V4;
import static io.sluice.fastpath.ForwarderPacketTest.V6;
import static io.sluice.fastpath.ForwarderPacketTest.backendTcp;
import static io.sluice.fastpath.ForwarderPacketTest.clientTcp;
import static io.sluice.fastpath.ForwarderPacketTest.clientUdp;
import static io.sluice.fastpath.ForwarderPacketTest.standard;
import static io.sluice.fastpath.ForwarderPacketTest.toBackendTcp;
import static io.sluice.fastpath.ForwarderPacketTest.toBackendUdp;
import static io.sluice.fastpath.ForwarderPacketTest.toClientTcp;
import static io.sluice.fastpath.packet.PacketBuilder.CLIENT_ROUTER_MAC;
import static io.sluice.fastpath.packet.PacketBuilder.LB_MAC;
import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.PSH;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * ICMP at the fastpath, table-driven for IPv4 and IPv6 over an established TCP session and a UDP session: echo to a VIP
 * answered, errors quoting a session translated to the other side with outer and quoted headers rewritten (compared
 * byte-exact with the frame the other side expects, so every checksum is checked too), everything else dropped and
 * counted; after each, the TCP session still forwards byte-exact.
 */
class IcmpTest
{
    record Case(String description, byte[] input, Verdict verdict, byte[] output, FastpathCounter counter)
    {
        @Override
        public String toString()
        {
            return description;
        }
    }

    static String router(final Family f)
    {
        return f == V4 ? "198.18.10.1" : "2001:2:0:10::1";
    }

    static byte[] data(final Family f)
    {
        return clientTcp(f).flags(ACK | PSH).sequence(1001, 5001).payload("GET / HTTP/1.1\r\n\r\n").build();
    }

    static byte[] dataToBackend(final Family f)
    {
        return toBackendTcp(f).flags(ACK | PSH).sequence(1001, 5001).payload("GET / HTTP/1.1\r\n\r\n").build();
    }

    static Stream<Arguments> cases()
    {
        final List<Arguments> all = new ArrayList<>();
        for (final Family f : List.of(V4, V6))
        {
            for (final Case c : casesFor(f))
            {
                all.add(Arguments.of(f, c));
            }
        }
        return all.stream();
    }

    static List<Case> casesFor(final Family f)
    {
        final boolean v4 = f == V4;
        final int unreachable = v4 ? 3 : 1;
        final int portUnreachable = v4 ? 3 : 4;
        final int tooBig = v4 ? 3 : 2;
        final int tooBigCode = v4 ? 4 : 0;
        final int timeExceeded = v4 ? 11 : 3;
        final int shortQuote = v4 ? 28 : 48;
        final long backendMac = f.backendMac();
        final List<Case> c = new ArrayList<>();
        final byte[] ping = "sluice-ping-0123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        c.add(new Case("echo request to the VIP is answered",
            IcmpFrames.echo(CLIENT_ROUTER_MAC, LB_MAC, f.client(), f.vip(), true, 61, ping), Verdict.TX,
            IcmpFrames.echo(LB_MAC, CLIENT_ROUTER_MAC, f.vip(), f.client(), false, 64, ping),
            FastpathCounter.ICMP_ECHO_REPLIES));
        c.add(new Case("echo request to another address is dropped",
            IcmpFrames.echo(CLIENT_ROUTER_MAC, LB_MAC, f.client(), v4 ? "198.18.1.200" : "2001:2:0:1::200", true, 61, ping),
            Verdict.DROP_ICMP_UNSUPPORTED, null, FastpathCounter.DROP_ICMP_UNSUPPORTED));
        c.add(new Case("echo reply to the VIP is dropped",
            IcmpFrames.echo(CLIENT_ROUTER_MAC, LB_MAC, f.client(), f.vip(), false, 61, ping),
            Verdict.DROP_ICMP_UNSUPPORTED, null, FastpathCounter.DROP_ICMP_UNSUPPORTED));

        for (final int quote : new int[] {0, shortQuote})
        {
            final String q = quote == 0 ? " (whole packet quoted)" : " (header + 8 bytes quoted)";
            c.add(new Case("fragmentation needed / packet too big from the backend reaches the client" + q,
                IcmpFrames.error(backendMac, LB_MAC, f.backend1(), f.local(), tooBig, tooBigCode, v4 ? 1400 : 1280,
                    IcmpFrames.quote(dataToBackend(f), quote)), Verdict.TX,
                IcmpFrames.error(LB_MAC, Harness.GATEWAY_MAC, f.vip(), f.client(), tooBig, tooBigCode, v4 ? 1400 : 1280,
                    IcmpFrames.quote(data(f), quote)), FastpathCounter.ICMP_ERRORS_TO_CLIENT));
        }
        c.add(new Case("time exceeded from a router on the backend side reaches the client from the VIP",
            IcmpFrames.error(backendMac, LB_MAC, router(f), f.local(), timeExceeded, 0, 0,
                IcmpFrames.quote(dataToBackend(f), 0)), Verdict.TX,
            IcmpFrames.error(LB_MAC, Harness.GATEWAY_MAC, f.vip(), f.client(), timeExceeded, 0, 0,
                IcmpFrames.quote(data(f), 0)), FastpathCounter.ICMP_ERRORS_TO_CLIENT));
        c.add(new Case("UDP port unreachable from the backend reaches the client",
            IcmpFrames.error(backendMac, LB_MAC, f.backend1(), f.local(), unreachable, portUnreachable, 0,
                IcmpFrames.quote(toBackendUdp(f).build(), 0)), Verdict.TX,
            IcmpFrames.error(LB_MAC, Harness.GATEWAY_MAC, f.vip(), f.client(), unreachable, portUnreachable, 0,
                IcmpFrames.quote(clientUdp(f).build(), 0)), FastpathCounter.ICMP_ERRORS_TO_CLIENT));
        c.add(new Case("unreachable from the client side reaches the backend",
            IcmpFrames.error(CLIENT_ROUTER_MAC, LB_MAC, f.client(), f.vip(), unreachable, 1, 0,
                IcmpFrames.quote(toClientTcp(f).flags(SYN | ACK).sequence(5000, 1001).build(), 0)), Verdict.TX,
            IcmpFrames.error(LB_MAC, backendMac, f.local(), f.backend1(), unreachable, 1, 0,
                IcmpFrames.quote(backendTcp(f).flags(SYN | ACK).sequence(5000, 1001).build(), 0)),
            FastpathCounter.ICMP_ERRORS_TO_BACKEND));
        c.add(new Case("error quoting another client's flow is dropped",
            IcmpFrames.error(CLIENT_ROUTER_MAC, LB_MAC, f.client(), f.vip(), unreachable, 1, 0,
                IcmpFrames.quote(PacketBuilder.tcp().from(f.vip(), 80).to(f.client(), 40001).flags(ACK).build(), 0)),
            Verdict.DROP_ICMP_NO_SESSION, null, FastpathCounter.DROP_ICMP_NO_SESSION));
        c.add(new Case("error whose quoted source is not its destination is dropped",
            IcmpFrames.error(backendMac, LB_MAC, f.backend1(), f.local(), unreachable, portUnreachable, 0,
                IcmpFrames.quote(PacketBuilder.tcp().from(f.vip(), 80).to(f.client(), 40000).flags(ACK).build(), 0)),
            Verdict.DROP_ICMP_NO_SESSION, null, FastpathCounter.DROP_ICMP_NO_SESSION));
        c.add(new Case("redirect is dropped", IcmpFrames.error(backendMac, LB_MAC, f.backend1(), f.local(), v4 ? 5 : 137, 0,
            0, IcmpFrames.quote(dataToBackend(f), shortQuote)), Verdict.DROP_ICMP_UNSUPPORTED, null,
            FastpathCounter.DROP_ICMP_UNSUPPORTED));
        c.add(new Case("ICMP checksum wrong", FramePatch.of(IcmpFrames.echo(CLIENT_ROUTER_MAC, LB_MAC, f.client(), f.vip(), true,
            61, ping)).putShort(14 + (v4 ? 20 : 40) + 2, 0x1234).frame(), Verdict.DROP_MALFORMED, null,
            FastpathCounter.MALFORMED_ICMP_CHECKSUM));
        c.add(new Case("ICMP header cut short", icmpOfLength(f, 6), Verdict.DROP_MALFORMED, null,
            FastpathCounter.MALFORMED_ICMP_TRUNCATED));
        c.add(new Case("error quoting less than an IP header",
            IcmpFrames.error(backendMac, LB_MAC, f.backend1(), f.local(), unreachable, 1, 0,
                IcmpFrames.quote(dataToBackend(f), v4 ? 16 : 36)), Verdict.DROP_MALFORMED, null,
            FastpathCounter.MALFORMED_ICMP_QUOTE));
        c.add(new Case("error quoting an IP header but not the ports",
            IcmpFrames.error(backendMac, LB_MAC, f.backend1(), f.local(), unreachable, 1, 0,
                IcmpFrames.quote(dataToBackend(f), v4 ? 22 : 42)), Verdict.DROP_MALFORMED, null,
            FastpathCounter.MALFORMED_ICMP_QUOTE));
        return c;
    }

    /** An ICMP message of {@code length} bytes (shorter than its header), IP lengths and checksums consistent. */
    private static byte[] icmpOfLength(final Family f, final int length)
    {
        final boolean v4 = f == V4;
        final byte[] whole = IcmpFrames.message(CLIENT_ROUTER_MAC, LB_MAC, f.client(), f.vip(), v4 ? 8 : 128, 0, 64, new byte[0]);
        final FramePatch p = FramePatch.of(whole).truncate(14 + (v4 ? 20 : 40) + length);
        if (v4)
        {
            return p.putShort(14 + 2, 20 + length).fixIpv4Checksum().frame();
        }
        return p.putShort(14 + 4, length).frame();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.sluice.fastpath.ForwarderPacketTest#families")
    void shouldHandAnErrorToTheForwarderThatOwnsTheQuotedSession(final Family f)
    {
        try (Harness h = new Harness(2, 1024))
        {
            standard(f).accept(h);
            final List<byte[]> syn = h.send(0, clientTcp(f).flags(SYN).build());
            assertThat(syn).hasSize(1);
            final int l4 = 14 + (f == V4 ? 20 : 40);
            final int snatPort = (syn.get(0)[l4] & 0xFF) << 8 | (syn.get(0)[l4 + 1] & 0xFF);
            final int owner = snatPort % 2;
            final byte[] toBackend = PacketBuilder.tcp().macs(LB_MAC, f.backendMac()).from(f.local(), snatPort)
                .to(f.backend1(), 8080).flags(ACK | PSH).sequence(1001, 5001).payload("GET / HTTP/1.1\r\n\r\n").build();
            final int tooBig = f == V4 ? 3 : 2;
            final int code = f == V4 ? 4 : 0;
            final long handoffs = h.counter(FastpathCounter.HANDOFFS);

            final List<byte[]> out = h.send(1 - owner, IcmpFrames.error(f.backendMac(), LB_MAC, f.backend1(), f.local(), tooBig,
                code, 1400, IcmpFrames.quote(toBackend, 0)));

            assertThat(h.counter(FastpathCounter.HANDOFFS)).isEqualTo(handoffs + 1);
            assertThat(out).hasSize(1);
            assertThat(HexFormat.of().formatHex(out.get(0))).isEqualTo(HexFormat.of().formatHex(IcmpFrames.error(LB_MAC,
                Harness.GATEWAY_MAC, f.vip(), f.client(), tooBig, code, 1400, IcmpFrames.quote(data(f), 0))));
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void shouldAnswerTranslateOrDropIcmp(final Family f, final Case c)
    {
        try (Harness h = new Harness(1, 1024))
        {
            standard(f).accept(h);
            h.send(0, clientTcp(f).flags(SYN).build());
            h.send(0, backendTcp(f).flags(SYN | ACK).sequence(5000, 1001).build());
            h.send(0, clientTcp(f).flags(ACK).sequence(1001, 5001).build());
            assertThat(h.send(0, clientUdp(f).build())).hasSize(1);

            final List<byte[]> out = h.send(0, c.input());

            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(c.verdict());
            if (c.output() == null)
            {
                assertThat(out).isEmpty();
                assertThat(h.counter(c.verdict().counter())).isEqualTo(1);
            }
            else
            {
                assertThat(out).hasSize(1);
                assertThat(HexFormat.of().formatHex(out.get(0))).isEqualTo(HexFormat.of().formatHex(c.output()));
            }
            if (c.counter() != null)
            {
                assertThat(h.counter(c.counter())).isEqualTo(1);
            }
            final List<byte[]> after = h.send(0, data(f));
            assertThat(after).hasSize(1);
            assertThat(HexFormat.of().formatHex(after.get(0))).isEqualTo(HexFormat.of().formatHex(dataToBackend(f)));
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(2);
        }
    }
}
