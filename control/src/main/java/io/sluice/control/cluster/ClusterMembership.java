package io.sluice.control.cluster;

import io.sluice.control.ControlCounter;
import io.sluice.control.config.SecretFile;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.IntConsumer;

/**
 * Minimal cluster membership: every {@code heartbeatMillis} this node sends an authenticated {@link Heartbeat} to each
 * configured peer (UDP, {@code syncPort}); a peer is live from its first valid heartbeat until {@code deadAfterMillis}
 * pass without one. The live node count (this node included) goes to a listener whenever it changes — the node divides
 * every bandwidth limit by it. Peers are identified by source address (only configured peers are heard), heartbeats by
 * HMAC-SHA256 with the shared key; replays are refused by (incarnation, sequence) per peer and by a timestamp window of
 * {@link #MAX_SKEW_MS}. The base the session-sync protocol builds on (same header, same key, same socket).
 * <p>
 * One thread; control path only (it allocates freely).
 */
public final class ClusterMembership implements AutoCloseable
{
    /** Node clocks must agree within this (NTP); a datagram timestamped further away is refused as stale. */
    public static final long MAX_SKEW_MS = 5_000;

    private static final System.Logger LOG = System.getLogger(ClusterMembership.class.getName());

    /** What happened to one received datagram. */
    public enum Verdict
    {
        ACCEPTED, MALFORMED, BAD_MAC, REPLAY, STALE, UNKNOWN_PEER
    }

    /** Settings, validated once. */
    public record Settings(String nodeName, List<InetSocketAddress> peers, int syncPort, byte[] key, int heartbeatMillis,
        int deadAfterMillis)
    {
        public Settings
        {
            peers = List.copyOf(peers);
            if (heartbeatMillis < 1 || deadAfterMillis < 2 * heartbeatMillis)
            {
                throw new IllegalArgumentException("deadAfterMillis: " + deadAfterMillis + " is less than twice heartbeatMillis ("
                    + heartbeatMillis + ")");
            }
        }
    }

    private static final class Peer
    {
        final InetSocketAddress address;
        String name;
        long incarnation = Long.MIN_VALUE;
        long sequence;
        long lastHeardMs;
        boolean live;

        Peer(final InetSocketAddress address)
        {
            this.address = address;
        }
    }

    private final Settings settings;
    private final EpochClock clock;
    private final IntConsumer onLiveNodes;
    /**
     * Encodes what is sent and decodes what is received: one is enough, as only the membership thread does either (its
     * loop sends, then receives, one after the other); a test calling {@link #onDatagram} directly never starts that
     * thread. Its Mac and scratch are not thread-safe, so both uses also hold this object's lock.
     */
    private final Heartbeat codec;
    private final Map<InetAddress, Peer> peers = new LinkedHashMap<>();
    private final Map<ControlCounter, AtomicCounter> counters = new EnumMap<>(ControlCounter.class);
    private final long incarnation;
    private final ByteBuffer out = ByteBuffer.allocate(Heartbeat.MAX_BYTES);
    private long sequence;
    private int liveNodes = 1;
    private volatile boolean running;
    private DatagramSocket socket;
    private Thread thread;

    public ClusterMembership(final Settings settings, final CountersManager countersManager, final EpochClock clock,
        final IntConsumer onLiveNodes)
    {
        this.settings = settings;
        this.clock = clock;
        this.onLiveNodes = onLiveNodes;
        this.codec = new Heartbeat(settings.key());
        this.incarnation = clock.time();
        for (final InetSocketAddress p : settings.peers())
        {
            peers.put(p.getAddress(), new Peer(p));
        }
        for (final ControlCounter c : ControlCounter.block(ControlCounter.CLUSTER_BLOCK))
        {
            counters.put(c, c.newCounter(countersManager));
        }
        counters.get(ControlCounter.CLUSTER_LIVE_NODES).setRelease(1);
    }

    /** Binds the sync port (all addresses) and starts the heartbeat thread. */
    public synchronized void start() throws SocketException
    {
        socket = new DatagramSocket(new InetSocketAddress(settings.syncPort()));
        running = true;
        thread = new Thread(this::run, "sluice-cluster");
        thread.setDaemon(true);
        thread.start();
        onLiveNodes.accept(liveNodes);
    }

    private void run()
    {
        final byte[] in = new byte[2048];
        final DatagramPacket packet = new DatagramPacket(in, in.length);
        final long tick = Math.max(1, Math.min(settings.heartbeatMillis(), 20));
        long nextSendMs = 0;
        while (running)
        {
            try
            {
                long now = clock.time();
                if (now >= nextSendMs)
                {
                    sendHeartbeats(now);
                    nextSendMs = now + settings.heartbeatMillis();
                }
                expire(now);
                socket.setSoTimeout((int)Math.max(1, Math.min(tick, nextSendMs - now)));
                try
                {
                    packet.setLength(in.length);
                    socket.receive(packet);
                    now = clock.time();
                    onDatagram(in, packet.getLength(), packet.getAddress(), now);
                }
                catch (final SocketTimeoutException ex)
                {
                    // a tick without datagrams: time to send or expire
                }
            }
            catch (final IOException | RuntimeException ex)
            {
                if (running)
                {
                    LOG.log(System.Logger.Level.WARNING, "cluster heartbeat loop", ex);
                }
            }
        }
    }

    private void sendHeartbeats(final long nowMs) throws IOException
    {
        synchronized (this)
        {
            codec.encode(out, settings.nodeName(), liveNodes, incarnation, ++sequence, nowMs);
        }
        for (final Peer p : peers.values())
        {
            try
            {
                socket.send(new DatagramPacket(out.array(), out.limit(), p.address));
                counters.get(ControlCounter.CLUSTER_HEARTBEATS_SENT).increment();
            }
            catch (final IOException ex)
            {
                // unreachable peer (no route yet): it stays silent, and dies by the clock like any other
                LOG.log(System.Logger.Level.DEBUG, "heartbeat to " + p.address, ex);
            }
        }
    }

    /** Checks one datagram from {@code source} and updates the peer it authenticates. Membership thread (or a test). */
    synchronized Verdict onDatagram(final byte[] data, final int length, final InetAddress source, final long nowMs)
    {
        final Verdict verdict = check(data, length, source, nowMs);
        final ControlCounter counter = switch (verdict)
        {
            case ACCEPTED -> ControlCounter.CLUSTER_HEARTBEATS_RECEIVED;
            case MALFORMED -> ControlCounter.CLUSTER_DROP_MALFORMED;
            case BAD_MAC -> ControlCounter.CLUSTER_DROP_BAD_MAC;
            case REPLAY -> ControlCounter.CLUSTER_DROP_REPLAY;
            case STALE -> ControlCounter.CLUSTER_DROP_STALE;
            case UNKNOWN_PEER -> ControlCounter.CLUSTER_DROP_UNKNOWN_PEER;
        };
        counters.get(counter).increment();
        return verdict;
    }

    private Verdict check(final byte[] data, final int length, final InetAddress source, final long nowMs)
    {
        final Peer peer = peers.get(source);
        if (peer == null)
        {
            return Verdict.UNKNOWN_PEER;
        }
        switch (codec.decode(data, length))
        {
            case MALFORMED:
                return Verdict.MALFORMED;
            case BAD_MAC:
                return Verdict.BAD_MAC;
            default:
                break;
        }
        if (Math.abs(nowMs - codec.timestampMs()) > MAX_SKEW_MS || codec.incarnation() > nowMs + MAX_SKEW_MS)
        {
            return Verdict.STALE;
        }
        final boolean newer = codec.incarnation() > peer.incarnation
            || codec.incarnation() == peer.incarnation && codec.sequence() > peer.sequence;
        // A dead (or never heard) peer may come back with any incarnation — its clock may have stepped back; the
        // timestamp window above bounds what a replay can do then.
        if (!newer && peer.live)
        {
            return Verdict.REPLAY;
        }
        if (!newer && codec.incarnation() == peer.incarnation && codec.sequence() <= peer.sequence)
        {
            return Verdict.REPLAY;
        }
        peer.incarnation = codec.incarnation();
        peer.sequence = codec.sequence();
        peer.name = codec.name();
        peer.lastHeardMs = nowMs;
        if (!peer.live)
        {
            peer.live = true;
            LOG.log(System.Logger.Level.INFO, "cluster peer " + peer.name + " at " + source.getHostAddress() + " is live");
            recount();
        }
        return Verdict.ACCEPTED;
    }

    /** Declares peers silent for deadAfterMillis dead. Membership thread (or a test). */
    synchronized void expire(final long nowMs)
    {
        for (final Peer p : peers.values())
        {
            if (p.live && nowMs - p.lastHeardMs >= settings.deadAfterMillis())
            {
                p.live = false;
                counters.get(ControlCounter.CLUSTER_PEER_DEATHS).increment();
                counters.get(ControlCounter.CLUSTER_DEATH_DETECTION_MS).setRelease(nowMs - p.lastHeardMs);
                LOG.log(System.Logger.Level.WARNING, "cluster peer " + p.name + " at " + p.address + " is dead (silent "
                    + (nowMs - p.lastHeardMs) + " ms)");
                recount();
            }
        }
    }

    private void recount()
    {
        int live = 1;
        for (final Peer p : peers.values())
        {
            if (p.live)
            {
                live++;
            }
        }
        if (live != liveNodes)
        {
            liveNodes = live;
            counters.get(ControlCounter.CLUSTER_LIVE_NODES).setRelease(live);
            onLiveNodes.accept(live);
        }
    }

    /**
     * The cluster key: the file's bytes with surrounding whitespace removed (e.g. {@code head -c 32 /dev/urandom |
     * base64 > key}), at least {@link Heartbeat#MIN_KEY_BYTES}. The file must be readable by its owner only (as the API
     * token): whoever reads the key can forge heartbeats.
     */
    public static byte[] readKey(final java.nio.file.Path file) throws IOException
    {
        SecretFile.requireOwnerOnly("cluster.keyFile", file);
        final byte[] key = new String(java.nio.file.Files.readAllBytes(file), java.nio.charset.StandardCharsets.ISO_8859_1).strip()
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        if (key.length < Heartbeat.MIN_KEY_BYTES)
        {
            throw new IllegalArgumentException("cluster.keyFile " + file + ": " + key.length + " bytes, at least "
                + Heartbeat.MIN_KEY_BYTES + " needed");
        }
        return key;
    }

    /** Live nodes, this one included. */
    public synchronized int liveNodes()
    {
        return liveNodes;
    }

    /** Names of the live peers (this node not included), sorted. */
    public synchronized List<String> livePeers()
    {
        final TreeSet<String> names = new TreeSet<>();
        for (final Peer p : peers.values())
        {
            if (p.live)
            {
                names.add(p.name);
            }
        }
        return new ArrayList<>(names);
    }

    /** This node's incarnation (its start time, epoch ms), carried in every datagram. */
    public long incarnation()
    {
        return incarnation;
    }

    @Override
    public void close()
    {
        running = false;
        final DatagramSocket s;
        synchronized (this)
        {
            s = socket;
        }
        if (s != null)
        {
            s.close();
        }
        if (thread != null)
        {
            try
            {
                thread.join(2_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        counters.values().forEach(AtomicCounter::close);
    }
}
