package io.sluice.fastpath;

import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.sluice.fastpath.ForwarderPacketTest.Family;
import io.sluice.fastpath.config.Acl;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.FrameChecks;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.Ipv6Flyweight;
import io.sluice.fastpath.packet.PacketBuilder;
import io.sluice.fastpath.packet.TcpFlyweight;

import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.PSH;
import static io.sluice.fastpath.packet.TcpFlyweight.RST;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * synProxy: the whole exchange through the real conductor and forwarder (cookie SYN-ACK without a session, the verified
 * ACK opening the backend connection, the backend's SYN-ACK completed by the forwarder, sequence numbers translated
 * both ways), invalid cookies, early data, a flood that leaves no session, v4 and v6.
 */
class SynProxyTest
{
    static final int CLIENT_PORT = 40000;
    static final int CLIENT_ISN = 0x1000_0000;
    static final int BACKEND_ISN = 0x7FFF_FFF0;

    static List<Family> families()
    {
        return List.of(ForwarderPacketTest.V4, ForwarderPacketTest.V6);
    }

    static Harness harness(final Family f, final boolean toa)
    {
        final Harness h = new Harness(1, 1024);
        final Listener l = Listener.of("web", ListenerKey.of(f.vip(), Protocol.TCP, 80), List.of(Backend.of(f.backend1(), 8080, 100)))
            .withSynProxy(true).withToa(toa);
        h.conductor.addListener(l);
        return h;
    }

    /** A client segment; a SYN carries an MSS option of {@code mss} when > 0. */
    static byte[] client(final Family f, final int port, final int flags, final int seq, final int ack, final String payload,
        final int mss)
    {
        final byte[] frame = PacketBuilder.tcp().from(f.client(), port).to(f.vip(), 80).flags(flags).sequence(seq, ack)
            .payload(payload).build();
        return mss > 0 ? withOptions(frame, new byte[] {2, 4, (byte)(mss >> 8), (byte)mss}) : frame;
    }

    static byte[] backend(final Family f, final int flags, final int seq, final int ack, final String payload)
    {
        return PacketBuilder.tcp().from(f.backend1(), 8080).to(f.local(), ForwarderPacketTest.tcpSnat(f)).flags(flags)
            .sequence(seq, ack).payload(payload).build();
    }

    /** Inserts TCP options (a multiple of 4 bytes) after a 20-byte TCP header, fixing lengths and checksums. */
    static byte[] withOptions(final byte[] frame, final byte[] options)
    {
        final boolean v4 = new EthernetFlyweight().wrap(new UnsafeBuffer(frame), 0).etherType() == EthernetFlyweight.ETHER_TYPE_IPV4;
        final int l3 = EthernetFlyweight.HEADER_LENGTH;
        final int l4 = l3 + (v4 ? 20 : 40);
        final byte[] out = new byte[frame.length + options.length];
        System.arraycopy(frame, 0, out, 0, l4 + 20);
        System.arraycopy(options, 0, out, l4 + 20, options.length);
        System.arraycopy(frame, l4 + 20, out, l4 + 20 + options.length, frame.length - l4 - 20);
        final UnsafeBuffer b = new UnsafeBuffer(out);
        final TcpFlyweight tcp = new TcpFlyweight().wrap(b, l4);
        tcp.headerLength(20 + options.length).checksum(0);
        final int l4Length = out.length - l4;
        final long pseudo;
        if (v4)
        {
            final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, l3);
            ip.totalLength(out.length - l3).computeChecksum();
            pseudo = Checksums.pseudoHeaderV4(ip.source(), ip.destination(), 6, l4Length);
        }
        else
        {
            final Ipv6Flyweight ip = new Ipv6Flyweight().wrap(b, l3);
            ip.payloadLength(l4Length);
            pseudo = Checksums.pseudoHeaderV6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(), 6,
                l4Length);
        }
        tcp.checksum(Checksums.finish(Checksums.sum(b, l4, l4Length, pseudo)));
        return out;
    }

    /** A parsed output frame. */
    record Seg(long dstMac, String src, int srcPort, String dst, int dstPort, int seq, int ack, int flags, int mss, byte[] options,
        String payload)
    {
        static Seg of(final byte[] frame)
        {
            assertThat(FrameChecks.checksumsValid(frame)).as("checksums").isTrue();
            final UnsafeBuffer b = new UnsafeBuffer(frame);
            final boolean v4 = new EthernetFlyweight().wrap(b, 0).etherType() == EthernetFlyweight.ETHER_TYPE_IPV4;
            final int l3 = EthernetFlyweight.HEADER_LENGTH;
            final String src;
            final String dst;
            final int l4;
            final int end;
            if (v4)
            {
                final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, l3);
                src = IpAddresses.toInetAddress(0, IpAddresses.v4Low(ip.source())).getHostAddress();
                dst = IpAddresses.toInetAddress(0, IpAddresses.v4Low(ip.destination())).getHostAddress();
                l4 = l3 + ip.headerLength();
                end = l3 + ip.totalLength();
            }
            else
            {
                final Ipv6Flyweight ip = new Ipv6Flyweight().wrap(b, l3);
                src = IpAddresses.toInetAddress(ip.sourceHigh(), ip.sourceLow()).getHostAddress();
                dst = IpAddresses.toInetAddress(ip.destinationHigh(), ip.destinationLow()).getHostAddress();
                l4 = l3 + 40;
                end = l4 + ip.payloadLength();
            }
            final TcpFlyweight tcp = new TcpFlyweight().wrap(b, l4);
            final byte[] options = new byte[tcp.headerLength() - 20];
            b.getBytes(l4 + 20, options);
            final byte[] payload = new byte[end - l4 - tcp.headerLength()];
            b.getBytes(l4 + tcp.headerLength(), payload);
            return new Seg(new EthernetFlyweight().wrap(b, 0).destination(), src, tcp.sourcePort(), dst, tcp.destinationPort(),
                tcp.sequence(), tcp.acknowledgment(), tcp.flags(), SynProxy.mssOption(b, l4, tcp.headerLength()), options,
                new String(payload, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
    }

    static String canonical(final String address)
    {
        return IpAddresses.parse(address).getHostAddress();
    }

    static Seg only(final List<byte[]> frames)
    {
        assertThat(frames).hasSize(1);
        return Seg.of(frames.get(0));
    }

    /** SYN → cookie SYN-ACK; returns the cookie. */
    static int cookieFor(final Harness h, final Family f, final int port, final int isn)
    {
        final Seg synAck = only(h.send(0, client(f, port, SYN, isn, 0, "", 1460)));
        return synAck.seq();
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldAnswerASynWithACookieAndKeepNoSession(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final Seg synAck = only(h.send(0, client(f, CLIENT_PORT, SYN, CLIENT_ISN, 0, "", 1460)));
            assertThat(synAck.flags()).isEqualTo(SYN | ACK);
            assertThat(synAck.src()).isEqualTo(canonical(f.vip()));
            assertThat(synAck.srcPort()).isEqualTo(80);
            assertThat(synAck.dst()).isEqualTo(canonical(f.client()));
            assertThat(synAck.dstPort()).isEqualTo(CLIENT_PORT);
            assertThat(synAck.ack()).isEqualTo(CLIENT_ISN + 1);
            assertThat(synAck.mss()).isEqualTo(1460);
            assertThat(synAck.options()).hasSize(4);
            assertThat(synAck.dstMac()).isEqualTo(Harness.GATEWAY_MAC);
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.SYN_COOKIE);
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(h.counter(FastpathCounter.SYN_COOKIES_SENT)).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.NEW_SESSIONS)).isZero();

            final Seg small = only(h.send(0, client(f, CLIENT_PORT + 1, SYN, CLIENT_ISN, 0, "", 1300)));
            assertThat(small.mss()).isEqualTo(1220);
            final Seg none = only(h.send(0, client(f, CLIENT_PORT + 2, SYN, CLIENT_ISN, 0, "", 0)));
            assertThat(none.mss()).isEqualTo(536);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldProxyTheWholeExchangeAndTranslateSequenceNumbersBothWays(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);

            final Seg syn = only(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0)));
            assertThat(syn.flags()).isEqualTo(SYN);
            assertThat(syn.src()).isEqualTo(canonical(f.local()));
            assertThat(syn.srcPort()).isEqualTo(ForwarderPacketTest.tcpSnat(f));
            assertThat(syn.dst()).isEqualTo(canonical(f.backend1()));
            assertThat(syn.dstPort()).isEqualTo(8080);
            assertThat(syn.seq()).isEqualTo(CLIENT_ISN);
            assertThat(syn.mss()).isEqualTo(1460);
            assertThat(syn.dstMac()).isEqualTo(f.backendMac());
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.SYN_COOKIES_ACCEPTED)).isEqualTo(1);

            final Seg ack = only(h.send(0, backend(f, SYN | ACK, BACKEND_ISN, CLIENT_ISN + 1, "")));
            assertThat(ack.flags()).isEqualTo(ACK);
            assertThat(ack.src()).isEqualTo(canonical(f.local()));
            assertThat(ack.dst()).isEqualTo(canonical(f.backend1()));
            assertThat(ack.seq()).isEqualTo(CLIENT_ISN + 1);
            assertThat(ack.ack()).isEqualTo(BACKEND_ISN + 1);
            assertThat(ack.options()).isEmpty();
            assertThat(h.counter(FastpathCounter.SYNPROXY_HANDSHAKES)).isEqualTo(1);

            final Seg request = only(h.send(0, client(f, CLIENT_PORT, ACK | PSH, CLIENT_ISN + 1, cookie + 1, "GET /", 0)));
            assertThat(request.dst()).isEqualTo(canonical(f.backend1()));
            assertThat(request.seq()).isEqualTo(CLIENT_ISN + 1);
            assertThat(request.ack()).isEqualTo(BACKEND_ISN + 1);
            assertThat(request.payload()).isEqualTo("GET /");

            final Seg response = only(h.send(0, backend(f, ACK | PSH, BACKEND_ISN + 1, CLIENT_ISN + 6, "200 OK")));
            assertThat(response.src()).isEqualTo(canonical(f.vip()));
            assertThat(response.srcPort()).isEqualTo(80);
            assertThat(response.dst()).isEqualTo(canonical(f.client()));
            assertThat(response.seq()).isEqualTo(cookie + 1);
            assertThat(response.ack()).isEqualTo(CLIENT_ISN + 6);
            assertThat(response.payload()).isEqualTo("200 OK");

            final Seg next = only(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 6, cookie + 7, "", 0)));
            assertThat(next.ack()).isEqualTo(BACKEND_ISN + 7);
            assertThat(h.counter(FastpathCounter.DROP_BAD_COOKIE)).isZero();
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldAnswerARepeatedBackendSynAckAgain(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            only(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0)));
            only(h.send(0, backend(f, SYN | ACK, BACKEND_ISN, CLIENT_ISN + 1, "")));
            final Seg again = only(h.send(0, backend(f, SYN | ACK, BACKEND_ISN, CLIENT_ISN + 1, "")));
            assertThat(again.flags()).isEqualTo(ACK);
            assertThat(again.dst()).isEqualTo(canonical(f.backend1()));
            assertThat(again.ack()).isEqualTo(BACKEND_ISN + 1);
            assertThat(h.counter(FastpathCounter.SYNPROXY_HANDSHAKES)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldDropAndCountAcksWhoseCookieDoesNotVerify(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            assertThat(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 2, "", 0))).isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_BAD_COOKIE);
            assertThat(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 2, cookie + 1, "", 0))).isEmpty();
            assertThat(h.send(0, client(f, CLIENT_PORT + 1, ACK, CLIENT_ISN + 1, cookie + 1, "", 0))).isEmpty();
            assertThat(h.counter(FastpathCounter.DROP_BAD_COOKIE)).isEqualTo(3);
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();

            h.clock.now += 3 * SynProxy.PERIOD_NS;
            assertThat(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0))).isEmpty();
            assertThat(h.counter(FastpathCounter.DROP_BAD_COOKIE)).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldAcceptACookieFromThePreviousPeriod(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            h.clock.now += SynProxy.PERIOD_NS;
            assertThat(only(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0))).flags()).isEqualTo(SYN);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldHoldClientDataUntilTheBackendAnswersAndThenPassItTranslated(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            only(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0)));
            assertThat(h.send(0, client(f, CLIENT_PORT, ACK | PSH, CLIENT_ISN + 1, cookie + 1, "GET /", 0))).isEmpty();
            assertThat(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 6, cookie + 1, "", 0))).isEmpty();
            assertThat(h.counter(FastpathCounter.SYNPROXY_EARLY_DATA_HELD)).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.DROP_SYNPROXY_EARLY_DATA)).isEqualTo(1);

            final List<byte[]> out = h.send(0, backend(f, SYN | ACK, BACKEND_ISN, CLIENT_ISN + 1, ""));
            assertThat(out).hasSize(2);
            final Seg ack = Seg.of(out.get(0));
            final Seg request = Seg.of(out.get(1));
            assertThat(ack.flags()).isEqualTo(ACK);
            assertThat(ack.payload()).isEmpty();
            assertThat(request.dst()).isEqualTo(canonical(f.backend1()));
            assertThat(request.seq()).isEqualTo(CLIENT_ISN + 1);
            assertThat(request.ack()).isEqualTo(BACKEND_ISN + 1);
            assertThat(request.payload()).isEqualTo("GET /");
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldOpenTheBackendConnectionFromADataSegmentWhenTheAckWasLostAndKeepItsData(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            final Seg syn = only(h.send(0, client(f, CLIENT_PORT, ACK | PSH, CLIENT_ISN + 1, cookie + 1, "GET /", 0)));
            assertThat(syn.flags()).isEqualTo(SYN);
            assertThat(syn.payload()).isEmpty();
            final List<byte[]> out = h.send(0, backend(f, SYN | ACK, BACKEND_ISN, CLIENT_ISN + 1, ""));
            assertThat(out).hasSize(2);
            assertThat(Seg.of(out.get(1)).payload()).isEqualTo("GET /");
            assertThat(Seg.of(out.get(1)).ack()).isEqualTo(BACKEND_ISN + 1);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldPassTheBackendsRefusalToTheClientAcceptably(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            only(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0)));
            final Seg rst = only(h.send(0, backend(f, RST | ACK, 0, CLIENT_ISN + 1, "")));
            assertThat(rst.flags()).isEqualTo(RST | ACK);
            assertThat(rst.seq()).isEqualTo(cookie + 1);
            assertThat(rst.dst()).isEqualTo(canonical(f.client()));
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldAbsorbASynFloodWithoutCreatingSessions(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            for (int i = 0; i < 2000; i++)
            {
                final String source = f == ForwarderPacketTest.V4 ? "198.18." + (64 + i / 250) + "." + (1 + i % 250) :
                    "2001:2:0:99::" + Integer.toHexString(i + 1);
                final byte[] syn = withOptions(PacketBuilder.tcp().from(source, 1024 + i).to(f.vip(), 80).flags(SYN)
                    .sequence(i * 7919, 0).build(), new byte[] {2, 4, 5, (byte)0xb4});
                assertThat(h.send(0, syn)).hasSize(1);
            }
            assertThat(h.counter(FastpathCounter.SYN_COOKIES_SENT)).isEqualTo(2000);
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(h.forwarders[0].sessions().recordsInUse()).isZero();
            final int cookie = cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            assertThat(only(h.send(0, client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0))).flags()).isEqualTo(SYN);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldCheckTheAclBeforeAnsweringASyn(final Family f)
    {
        try (Harness h = new Harness(1, 64))
        {
            h.conductor.addListener(Listener.of("web", ListenerKey.of(f.vip(), Protocol.TCP, 80),
                List.of(Backend.of(f.backend1(), 8080, 100))).withSynProxy(true).withAcl(Acl.deny(
                f == ForwarderPacketTest.V4 ? "198.18.0.0/24" : "2001:2::/64")));
            assertThat(h.send(0, client(f, CLIENT_PORT, SYN, CLIENT_ISN, 0, "", 1460))).isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_ACL);
        }
    }
}
