package io.sluice.fastpath;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.sluice.fastpath.ForwarderPacketTest.Family;
import io.sluice.fastpath.SynProxyTest.Seg;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.PSH;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/** toa: TCP option 254 with the client's port and address on the ACK completing the handshake towards the backend. */
class ToaTest
{
    static List<Family> families()
    {
        return SynProxyTest.families();
    }

    private static Harness harness(final Family f, final boolean synProxy)
    {
        final Harness h = new Harness(1, 1024);
        h.conductor.addListener(Listener.of("web", ListenerKey.of(f.vip(), Protocol.TCP, 80),
            List.of(Backend.of(f.backend1(), 8080, 100))).withToa(true).withSynProxy(synProxy));
        return h;
    }

    /** The TOA option bytes expected for the family's client on port 40000. */
    private static byte[] expectedToa(final Family f)
    {
        final byte[] address = IpAddresses.parse(f.client()).getAddress();
        final byte[] option = new byte[4 + address.length];
        option[0] = (byte)254;
        option[1] = (byte)option.length;
        option[2] = (byte)(40000 >> 8);
        option[3] = (byte)40000;
        System.arraycopy(address, 0, option, 4, address.length);
        return option;
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldAddTheClientAddressToTheAckCompletingTheHandshakeAndClampTheMss(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            final Seg syn = SynProxyTest.only(h.send(0, SynProxyTest.client(f, 40000, SYN, 100, 0, "", 1460)));
            assertThat(syn.mss()).isEqualTo(1460);
            final byte[] synAck = SynProxyTest.withOptions(SynProxyTest.backend(f, SYN | ACK, 5000, 101, ""),
                new byte[] {2, 4, 0x05, (byte)0xb4});
            final Seg toClient = SynProxyTest.only(h.send(0, synAck));
            assertThat(toClient.mss()).isEqualTo(1460 - expectedToa(f).length);

            final Seg ack = SynProxyTest.only(h.send(0, SynProxyTest.client(f, 40000, ACK, 101, 5001, "", 0)));
            assertThat(ack.options()).containsExactly(expectedToa(f));
            assertThat(ack.dst()).isEqualTo(SynProxyTest.canonical(f.backend1()));
            assertThat(ack.seq()).isEqualTo(101);
            assertThat(ack.ack()).isEqualTo(5001);
            assertThat(h.counter(FastpathCounter.TOA_ADDED)).isEqualTo(1);

            final Seg data = SynProxyTest.only(h.send(0, SynProxyTest.client(f, 40000, ACK | PSH, 101, 5001, "hello", 0)));
            assertThat(data.options()).isEmpty();
            assertThat(data.payload()).isEqualTo("hello");
            assertThat(h.counter(FastpathCounter.TOA_ADDED)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldKeepTheDataOfAHandshakeAckThatCarriesSome(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            h.send(0, SynProxyTest.client(f, 40000, SYN, 100, 0, "", 1460));
            h.send(0, SynProxyTest.backend(f, SYN | ACK, 5000, 101, ""));
            final Seg ack = SynProxyTest.only(h.send(0, PacketBuilder.tcp().from(f.client(), 40000).to(f.vip(), 80).flags(ACK)
                .sequence(101, 5001).payload("GET / HTTP/1.1\r\n\r\n").padTo(120).build()));
            assertThat(ack.options()).containsExactly(expectedToa(f));
            assertThat(ack.payload()).isEqualTo("GET / HTTP/1.1\r\n\r\n");
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldSendTheAckWithoutTheOptionWhenTheHeaderHasNoRoom(final Family f)
    {
        try (Harness h = harness(f, false))
        {
            h.send(0, SynProxyTest.client(f, 40000, SYN, 100, 0, "", 1460));
            h.send(0, SynProxyTest.backend(f, SYN | ACK, 5000, 101, ""));
            final byte[] fullHeader = SynProxyTest.withOptions(SynProxyTest.client(f, 40000, ACK, 101, 5001, "", 0),
                new byte[40]);
            final Seg ack = SynProxyTest.only(h.send(0, fullHeader));
            assertThat(ack.options()).hasSize(40);
            assertThat(h.counter(FastpathCounter.TOA_NO_ROOM)).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.TOA_ADDED)).isZero();
        }
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldAddTheOptionToTheAckTheSynProxySendsTheBackend(final Family f)
    {
        try (Harness h = harness(f, true))
        {
            final int cookie = SynProxyTest.cookieFor(h, f, 40000, 100);
            SynProxyTest.only(h.send(0, SynProxyTest.client(f, 40000, ACK, 101, cookie + 1, "", 0)));
            final Seg ack = SynProxyTest.only(h.send(0, SynProxyTest.backend(f, SYN | ACK, 5000, 101, "")));
            assertThat(ack.flags()).isEqualTo(ACK);
            assertThat(ack.options()).containsExactly(expectedToa(f));
            assertThat(h.counter(FastpathCounter.TOA_ADDED)).isEqualTo(1);
        }
    }
}
