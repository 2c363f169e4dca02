package io.sluice.control.cluster;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Datagram authentication, replay refusal and liveness of the cluster membership, without sockets. */
class ClusterMembershipTest
{
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final InetAddress PEER = InetAddress.ofLiteral("198.18.10.12");
    private static final long T0 = 1_800_000_000_000L;

    private final CountersManager counters =
        new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
    private final long[] now = {T0};
    private final List<Integer> liveChanges = new ArrayList<>();
    private final ClusterMembership membership = new ClusterMembership(new ClusterMembership.Settings("lb1",
        List.of(new InetSocketAddress(PEER, 8848)), 8848, KEY, 100, 500), counters, () -> now[0], liveChanges::add);

    @Test
    void shouldAcceptAnAuthenticHeartbeatAndCountThePeerLive()
    {
        assertThat(membership.onDatagram(datagram(KEY, "lb2", 7, 1, T0), 0, PEER, T0)).isEqualTo(ClusterMembership.Verdict.MALFORMED);
        final byte[] d = datagram(KEY, "lb2", 7, 1, T0);
        assertThat(membership.onDatagram(d, d.length, PEER, T0)).isEqualTo(ClusterMembership.Verdict.ACCEPTED);
        assertThat(membership.liveNodes()).isEqualTo(2);
        assertThat(membership.livePeers()).containsExactly("lb2");
        assertThat(liveChanges).containsExactly(2);
        assertThat(counter("cluster.heartbeats.received")).isEqualTo(1);
        assertThat(counter("cluster.live_nodes")).isEqualTo(2);
    }

    @Test
    void shouldDropAndCountADatagramUnderTheWrongKeyOrTampered()
    {
        final byte[] wrongKey = datagram("another key of 32 bytes, at last".getBytes(StandardCharsets.US_ASCII), "lb2", 7, 1, T0);
        assertThat(membership.onDatagram(wrongKey, wrongKey.length, PEER, T0)).isEqualTo(ClusterMembership.Verdict.BAD_MAC);
        final byte[] tampered = datagram(KEY, "lb2", 7, 1, T0);
        tampered[23] ^= 1;
        assertThat(membership.onDatagram(tampered, tampered.length, PEER, T0)).isEqualTo(ClusterMembership.Verdict.BAD_MAC);
        assertThat(counter("cluster.drop.bad_mac")).isEqualTo(2);
        assertThat(membership.liveNodes()).isEqualTo(1);
        assertThat(liveChanges).isEmpty();
    }

    @Test
    void shouldDropAndCountReplaysOldSequencesAndStaleTimestamps()
    {
        final byte[] first = datagram(KEY, "lb2", 7, 5, T0);
        assertThat(membership.onDatagram(first, first.length, PEER, T0)).isEqualTo(ClusterMembership.Verdict.ACCEPTED);
        assertThat(membership.onDatagram(first, first.length, PEER, T0 + 10)).isEqualTo(ClusterMembership.Verdict.REPLAY);
        final byte[] older = datagram(KEY, "lb2", 7, 4, T0);
        assertThat(membership.onDatagram(older, older.length, PEER, T0 + 10)).isEqualTo(ClusterMembership.Verdict.REPLAY);
        final byte[] olderLife = datagram(KEY, "lb2", 6, 900, T0);
        assertThat(membership.onDatagram(olderLife, olderLife.length, PEER, T0 + 10)).isEqualTo(ClusterMembership.Verdict.REPLAY);
        assertThat(counter("cluster.drop.replay")).isEqualTo(3);

        final byte[] stale = datagram(KEY, "lb2", 7, 6, T0 - ClusterMembership.MAX_SKEW_MS - 1);
        assertThat(membership.onDatagram(stale, stale.length, PEER, T0)).isEqualTo(ClusterMembership.Verdict.STALE);
        assertThat(counter("cluster.drop.stale")).isEqualTo(1);

        final byte[] next = datagram(KEY, "lb2", 7, 6, T0 + 20);
        assertThat(membership.onDatagram(next, next.length, PEER, T0 + 20)).isEqualTo(ClusterMembership.Verdict.ACCEPTED);
    }

    @Test
    void shouldIgnoreSourcesThatAreNotPeers()
    {
        final byte[] d = datagram(KEY, "lb2", 7, 1, T0);
        assertThat(membership.onDatagram(d, d.length, InetAddress.ofLiteral("198.18.10.99"), T0))
            .isEqualTo(ClusterMembership.Verdict.UNKNOWN_PEER);
        assertThat(counter("cluster.drop.unknown_peer")).isEqualTo(1);
    }

    @Test
    void shouldDeclareASilentPeerDeadAfterDeadAfterMillisAndLiveAgainWhenItReturns()
    {
        final byte[] d = datagram(KEY, "lb2", 7, 1, T0);
        membership.onDatagram(d, d.length, PEER, T0);
        membership.expire(T0 + 499);
        assertThat(membership.liveNodes()).isEqualTo(2);
        membership.expire(T0 + 500);
        assertThat(membership.liveNodes()).isEqualTo(1);
        assertThat(counter("cluster.peer_deaths")).isEqualTo(1);
        assertThat(counter("cluster.death_detection_ms")).isEqualTo(500);

        // restarted: a new incarnation, sequence from 1 again
        final byte[] back = datagram(KEY, "lb2", T0 + 600, 1, T0 + 600);
        assertThat(membership.onDatagram(back, back.length, PEER, T0 + 600)).isEqualTo(ClusterMembership.Verdict.ACCEPTED);
        assertThat(liveChanges).containsExactly(2, 1, 2);
    }

    @Test
    void shouldRoundTripEveryHeaderField()
    {
        final Heartbeat codec = new Heartbeat(KEY);
        final ByteBuffer out = ByteBuffer.allocate(Heartbeat.MAX_BYTES);
        codec.encode(out, "node-a", 3, 11, 12, 13);
        final byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        assertThat(bytes.length).isEqualTo(Heartbeat.HEADER_BYTES + 6 + Heartbeat.MAC_BYTES);
        assertThat(codec.decode(bytes, bytes.length)).isEqualTo(Heartbeat.Check.OK);
        assertThat(List.of(codec.name(), codec.liveNodes(), codec.incarnation(), codec.sequence(), codec.timestampMs()))
            .containsExactly("node-a", 3, 11L, 12L, 13L);
    }

    @Test
    void shouldRefuseAKeyFileReadableByGroupOrOthers(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("cluster.key");
        Files.writeString(file, "c2x1aWNlIHRlc3QgY2x1c3RlciBrZXksIDMyIGJ5dGVz\n");
        for (final String open : new String[] {"rw-r-----", "rw----r--", "rw-r--r--"})
        {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(open));
            assertThatThrownBy(() -> ClusterMembership.readKey(file)).isInstanceOf(IOException.class)
                .hasMessage("cluster.keyFile " + file + " is readable by group or others (" + open + "): chmod 600 it");
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThat(new String(ClusterMembership.readKey(file), StandardCharsets.US_ASCII))
            .isEqualTo("c2x1aWNlIHRlc3QgY2x1c3RlciBrZXksIDMyIGJ5dGVz");
    }

    private static byte[] datagram(final byte[] key, final String name, final long incarnation, final long sequence,
        final long timestampMs)
    {
        final ByteBuffer out = ByteBuffer.allocate(Heartbeat.MAX_BYTES);
        new Heartbeat(key).encode(out, name, 2, incarnation, sequence, timestampMs);
        final byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    private long counter(final String label)
    {
        final long[] value = {-1};
        counters.forEach((id, typeId, keyBuffer, l) ->
        {
            if (l.equals(label))
            {
                value[0] = counters.getCounterValue(id);
            }
        });
        return value[0];
    }
}
