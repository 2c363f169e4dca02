package io.sluice.fastpath;

import java.util.Arrays;

import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import io.sluice.fastpath.lb.BackendState;
import io.sluice.fastpath.lb.BackendTraffic;
import io.sluice.fastpath.lb.BandwidthLimiter;
import io.sluice.fastpath.lb.ListenerState;
import io.sluice.fastpath.lb.ListenerTable;
import io.sluice.fastpath.lb.PersistenceTable;
import io.sluice.fastpath.lb.Scheduler;
import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.FrameBytes;
import io.sluice.fastpath.packet.FrameValidation;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.Ipv6Flyweight;
import io.sluice.fastpath.packet.TcpFlyweight;
import io.sluice.fastpath.packet.UdpFlyweight;
import io.sluice.fastpath.packet.VlanFlyweight;
import io.sluice.fastpath.session.FlowHash;
import io.sluice.fastpath.session.Records;
import io.sluice.fastpath.session.SessionLayout;
import io.sluice.fastpath.session.SessionTable;
import io.sluice.nativeio.xdp.XdpFlowTable;

import static io.sluice.fastpath.session.SessionLayout.BACKEND_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.BACKEND_ID_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.BACKEND_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.BYTES_IN_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.BYTES_OUT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.GENERATION_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LAST_SEEN_NS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LISTENER_ID_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.PACKETS_IN_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.PACKETS_OUT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.STATE_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.TIMEOUT_SECONDS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_PORT_OFFSET;

/**
 * One forwarder: the single writer of its session table and of its copy of the listener tables. Per duty cycle it
 * reads the clock once, swaps in a new table generation if the conductor published one, drains frames other
 * forwarders handed to it, polls its port on every data interface, advances the expiry wheel and flushes counters.
 * <p>
 * Per frame: parse → session lookup by the frame's 5-tuple (client key or reply key, one index) → on a miss,
 * ownership (hand off if another forwarder owns the flow), listener, ACL, connection limit, persistence/scheduler,
 * next hop, SNAT address and port, new session → FullNAT rewrite (MACs, addresses, ports, RFC 1624 checksums) → tx.
 * <p>
 * <b>Ownership.</b> With N forwarders, a client flow belongs to forwarder {@code (flowHash >>> 1) mod N} (flowHash
 * over the client 5-tuple; over the client address, VIP, port and protocol for listeners with persistence), and its
 * SNAT port is chosen with {@code port mod N == owner}, so a reply (to local address:port) belongs to
 * {@code port mod N}. Both are pure functions of the packet, so every node with the same N agrees.
 */
public final class ForwarderAgent implements Agent, PacketPort.FrameHandler, SessionTable.ExpiryHandler
{
    public static final int HANDOFF_MSG_TYPE = 1;
    public static final int MAX_IDS = 1 << 16;
    private static final int IPV6_FRAGMENT_HEADER = 44;

    private static final int GLOBAL_NEW = FastpathCounter.NEW_SESSIONS.slot();
    private static final int GLOBAL_ACTIVE = FastpathCounter.ACTIVE_SESSIONS.slot();
    private static final int GLOBAL_EXPIRED = FastpathCounter.EXPIRED_SESSIONS.slot();
    private static final int GLOBAL_NEIGHBOUR_REQUESTS = FastpathCounter.NEIGHBOUR_REQUESTS.slot();
    private static final int GLOBAL_RECLAIMED = FastpathCounter.RECLAIMED_SESSIONS.slot();
    private static final int GLOBAL_COOKIES_ACCEPTED = FastpathCounter.SYN_COOKIES_ACCEPTED.slot();
    private static final int GLOBAL_SYNPROXY_HANDSHAKES = FastpathCounter.SYNPROXY_HANDSHAKES.slot();
    private static final int GLOBAL_TOA_ADDED = FastpathCounter.TOA_ADDED.slot();
    private static final int GLOBAL_TOA_NO_ROOM = FastpathCounter.TOA_NO_ROOM.slot();
    private static final int GLOBAL_EARLY_DATA_HELD = FastpathCounter.SYNPROXY_EARLY_DATA_HELD.slot();
    private static final int GLOBAL_WORK_NANOS = FastpathCounter.FORWARDER_WORK_NANOS.slot();
    private static final int GLOBAL_BUSY_CYCLES = FastpathCounter.FORWARDER_BUSY_CYCLES.slot();
    private static final int GLOBAL_HANDOFF_WAKEUPS = FastpathCounter.HANDOFF_WAKEUPS.slot();
    private static final int GLOBAL_OFFLOADED = FastpathCounter.OFFLOADED_SESSIONS.slot();
    private static final int GLOBAL_OFFLOAD_FULL = FastpathCounter.OFFLOAD_FULL.slot();
    private static final int GLOBAL_OFFLOAD_REFRESHED = FastpathCounter.OFFLOAD_REFRESHED.slot();
    private static final int GLOBAL_OFFLOAD_EXPIRY_CHECKS = FastpathCounter.OFFLOAD_EXPIRY_CHECKS.slot();
    /** Records a duty cycle's offload sweep examines (after a listener stopped being offloadable). */
    private static final int OFFLOAD_SWEEP_BUDGET = 4096;
    /** A flow-table counter slot meaning "none". */
    private static final int NO_COUNTER_SLOT = -1;
    /** synProxy: the ACK's cookie verified, go on creating the session (never a frame length). */
    private static final int SYNPROXY_PROCEED = -2;
    private static final int L_NEW = FastpathCounter.LISTENER_NEW_SESSIONS.slot();
    private static final int L_ACTIVE = FastpathCounter.LISTENER_ACTIVE_SESSIONS.slot();
    private static final int L_DROP_ACL = FastpathCounter.LISTENER_DROP_ACL.slot();
    private static final int L_DROP_LIMIT = FastpathCounter.LISTENER_DROP_LIMIT.slot();
    private static final int L_DROP_NO_BACKEND = FastpathCounter.LISTENER_DROP_NO_BACKEND.slot();
    private static final int L_DROP_TABLE_FULL = FastpathCounter.LISTENER_DROP_TABLE_FULL.slot();
    private static final int L_DROP_NEW_FLOW_RATE = FastpathCounter.LISTENER_DROP_NEW_FLOW_RATE.slot();
    private static final int L_DROP_SOURCE_NEW_FLOW_RATE = FastpathCounter.LISTENER_DROP_SOURCE_NEW_FLOW_RATE.slot();
    private static final int L_DROP_BANDWIDTH = FastpathCounter.LISTENER_DROP_BANDWIDTH.slot();
    private static final int L_BANDWIDTH_DELAYED = FastpathCounter.LISTENER_BANDWIDTH_DELAYED.slot();
    private static final int B_NEW = FastpathCounter.BACKEND_NEW_SESSIONS.slot();
    private static final int B_ACTIVE = FastpathCounter.BACKEND_ACTIVE_SESSIONS.slot();

    private final int index;
    private final int forwarderCount;
    private final ForwarderConfiguration configuration;
    private final PacketPort[] ports;
    private final long[] portMacs;
    private final NeighbourTable neighbours;
    private final NanoClock clock;
    private final SessionTable sessions;
    private final PersistenceTable persistence;
    private final CounterSet global;
    private final int[] activeByBackend = new int[MAX_IDS];
    private final RingBuffer[] outbound;
    private final RingBuffer[] inbound;
    private HandoffWakeup[] wakeups;
    /** Owners (bit per forwarder index) this duty cycle handed frames to: their doorbells ring once, after the polls. */
    private long handedTo;
    private final MessageHandler handoffHandler = this::onHandedOff;
    private final NeighbourQueue neighbourQueue = new NeighbourQueue(64, 4, 2048, 1_000_000_000L);
    private final NeighbourQueue.Resend neighbourResolved = (b, o, l) -> onHandedOff(HANDOFF_MSG_TYPE, b, o, l);
    private final Runnable neighbourExpired = () -> drop(Verdict.DROP_NO_NEIGHBOUR);
    private MutableDirectBuffer frameBuffer;
    private int frameOffset;
    private int frameLength;
    private final int snatPortMin;
    private final int snatPortMax;
    private final int firstSnatPort;
    private final int snatPortCount;

    private final EthernetFlyweight ethernet = new EthernetFlyweight();
    private final Ipv6Flyweight ipv6 = new Ipv6Flyweight();
    private final TcpFlyweight tcp = new TcpFlyweight();
    private final IcmpHandler icmp;
    private final BandwidthLimiter limiter = new BandwidthLimiter(BandwidthLimiter.DEFAULT_SLOTS, MAX_IDS);
    private final SynProxy synProxy = new SynProxy();

    private volatile ListenerTable published;
    private volatile long appliedGeneration = -1;
    private ListenerTable tables;

    // Per-frame parse results: fields, not objects, so nothing is allocated per packet.
    private boolean v4;
    private int protocol;
    private int ipLength;
    private int l4Offset;
    private int l4Length;
    private int checksumOffset;
    // The L4 pseudo header's sum, from parse (the verification and the rewrite's update both use it), and whether the
    // L4 checksum field held only its fold (CHECKSUM_PARTIAL: the rewrite completes it).
    private long pseudoSum;
    private boolean l4Partial;
    // The IPv4 header checksum as received (from the parse's wide load), the base of its incremental update.
    private int ipv4Checksum;
    private long srcHigh;
    private long srcLow;
    private long dstHigh;
    private long dstLow;
    private int srcPort;
    private int dstPort;
    private int tcpFlags;
    private int l3Offset;
    private int proxyMssIndex;

    private long nowNs;
    private long lastFlushNs;
    private boolean countersDirty;
    private int chosenLocal;
    private int chosenPort;
    private long chosenReplyHash;
    // The index slots warmNewFlow loaded, kept so its loads are not dead code; its guess, for newFlow to reuse.
    private int warmedSlots;
    private ListenerState warmListener;
    private BackendState warmBackend;
    private int warmChosen;
    private long warmSourceHash;
    private int warmLocal;
    private int warmSlot;
    private long warmReplyHash;
    private int rxPort;
    private int egressPort;
    private Verdict lastVerdict = Verdict.CONTINUE;
    private FlowOffload offload;
    private XdpFlowTable.Writer offloadWriter;
    private int offloadEpoch;
    private long lastFoldNs;
    /** Listener ids whose sessions must leave the offload (a peak or toa set since they were offloaded), and the sweep. */
    private final java.util.BitSet unoffload = new java.util.BitSet();
    private int unoffloadCursor = -1;

    public ForwarderAgent(
        final int index, final int forwarderCount, final int sessionCapacity, final ForwarderConfiguration configuration,
        final int snatPortMin, final int snatPortMax, final PacketPort port, final NeighbourTable neighbours,
        final NanoClock clock, final CounterSet global, final RingBuffer[] outbound, final RingBuffer[] inbound,
        final ListenerTable initialTables)
    {
        this(index, forwarderCount, sessionCapacity, configuration, snatPortMin, snatPortMax, new PacketPort[] {port},
            neighbours, clock, global, outbound, inbound, initialTables);
    }

    /**
     * @param ports this forwarder's queue on every data interface, in interface-slot order: a frame leaves by the port
     *              of the slot its next hop names ({@link NeighbourTable#interfaceOf}).
     */
    public ForwarderAgent(
        final int index, final int forwarderCount, final int sessionCapacity, final ForwarderConfiguration configuration,
        final int snatPortMin, final int snatPortMax, final PacketPort[] ports, final NeighbourTable neighbours,
        final NanoClock clock, final CounterSet global, final RingBuffer[] outbound, final RingBuffer[] inbound,
        final ListenerTable initialTables)
    {
        if (ports.length == 0 || ports.length > NeighbourTable.MAX_INTERFACES)
        {
            throw new IllegalArgumentException("ports: 1 to " + NeighbourTable.MAX_INTERFACES + " data interfaces, " +
                ports.length + " given");
        }
        this.index = index;
        this.forwarderCount = forwarderCount;
        this.configuration = configuration;
        this.ports = ports.clone();
        this.portMacs = new long[ports.length];
        for (int i = 0; i < ports.length; i++)
        {
            portMacs[i] = ports[i].macAddress();
        }
        this.neighbours = neighbours;
        this.clock = clock;
        this.global = global;
        this.outbound = outbound;
        this.inbound = inbound;
        this.wakeups = new HandoffWakeup[forwarderCount];
        Arrays.fill(wakeups, HandoffWakeup.NONE);
        this.snatPortMin = snatPortMin;
        this.snatPortMax = snatPortMax;
        this.firstSnatPort = snatPortMin + Math.floorMod(index - snatPortMin, forwarderCount);
        this.snatPortCount = (snatPortMax - firstSnatPort) / forwarderCount + 1;
        this.nowNs = clock.nanoTime();
        this.sessions = new SessionTable(sessionCapacity, configuration.wheelTickNs(), configuration.wheelSlots(), nowNs);
        this.persistence = new PersistenceTable(configuration.persistenceCapacity());
        this.icmp = new IcmpHandler(index, forwarderCount, sessions, neighbours, portMacs, global);
        this.published = initialTables;
        this.tables = initialTables;
        this.appliedGeneration = initialTables.generation();
        this.lastFlushNs = nowNs;
    }

    @Override
    public String roleName()
    {
        return "fastpath-forwarder-" + index;
    }

    public int index()
    {
        return index;
    }

    public SessionTable sessions()
    {
        return sessions;
    }

    /** Verdict on the last frame this forwarder handled (tests and diagnostics; written on the forwarder thread). */
    public Verdict lastVerdict()
    {
        return lastVerdict;
    }

    /**
     * How to wake each forwarder (by index) after handing it a frame; set before the forwarder threads start (the
     * array is read without synchronisation). Default: {@link HandoffWakeup#NONE} for all.
     */
    public void handoffWakeups(final HandoffWakeup[] byForwarder)
    {
        if (byForwarder.length != forwarderCount)
        {
            throw new IllegalArgumentException("handoffWakeups: " + byForwarder.length + " given for " + forwarderCount
                + " forwarders");
        }
        this.wakeups = byForwarder.clone();
    }

    /** True when another forwarder has handed this one frames it has not read yet (its idle strategy's last check). */
    public boolean hasHandedOffFrames()
    {
        for (final RingBuffer ring : inbound)
        {
            if (ring.producerPosition() != ring.consumerPosition())
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Turns the XDP flow offload on for this forwarder (docs/fastpath.md, "XDP flow offload"); set before the
     * forwarder's thread starts.
     */
    public void offload(final FlowOffload flowOffload)
    {
        this.offload = flowOffload;
        this.offloadWriter = flowOffload.writer();
        this.offloadEpoch = flowOffload.epoch();
        this.lastFoldNs = nowNs;
    }

    /** Conductor side: publish a new table generation; the forwarder swaps it in at its next duty cycle. */
    public void publish(final ListenerTable tables)
    {
        this.published = tables;
    }

    public long appliedGeneration()
    {
        return appliedGeneration;
    }

    @Override
    public int doWork()
    {
        nowNs = clock.nanoTime();
        if (offload != null)
        {
            // Before any next hop this cycle reads: an entry installed under it with an old MAC is stale by then.
            offloadEpoch = offload.epoch();
        }
        int work = 0;
        final ListenerTable next = published;
        if (next != tables)
        {
            flushCounters();
            if (offloadWriter != null)
            {
                noteOffloadChanges(tables, next);
            }
            tables = next;
            appliedGeneration = next.generation();
            work++;
        }
        for (final RingBuffer ring : inbound)
        {
            work += ring.read(handoffHandler, configuration.rxBatchSize());
        }
        // Frames waiting for bandwidth go before this cycle's new ones (into the tx batches the polls flush).
        work += limiter.release(nowNs, tables, ports, configuration.rxBatchSize());
        for (int i = 0; i < ports.length; i++)
        {
            rxPort = i;
            work += ports[i].poll(this, configuration.rxBatchSize());
        }
        if (handedTo != 0)
        {
            ringDoorbells();
        }
        work += neighbourQueue.drain(neighbours, nowNs, neighbourResolved, neighbourExpired);
        work += sessions.expire(nowNs, configuration.expiryBudget(), this);
        if (unoffloadCursor >= 0)
        {
            work += sweepUnoffload();
        }
        if (offloadWriter != null && offloadWriter.hasStagedDeletes())
        {
            // the entries of the sessions that ended this cycle, in one bpf(2) call
            offloadWriter.commitDeletes();
        }
        if (work > 0)
        {
            // work time per packet (issue 5): only cycles that did work, so idle spinning or polling never counts
            global.add(GLOBAL_WORK_NANOS, clock.nanoTime() - nowNs);
            global.increment(GLOBAL_BUSY_CYCLES);
            countersDirty = true;
        }
        if (offload != null && index == 0 && nowNs - lastFoldNs >= FlowOffload.FOLD_INTERVAL_NS)
        {
            offload.fold(tables, global);
            lastFoldNs = nowNs;
            countersDirty = true;
        }
        if (countersDirty && (work == 0 || nowNs - lastFlushNs >= configuration.counterFlushIntervalNs()))
        {
            flushCounters();
        }
        return work;
    }

    @Override
    public void onClose()
    {
        if (offloadWriter != null)
        {
            offloadWriter.commitDeletes();
        }
        if (offload != null && index == 0)
        {
            offload.fold(tables, global);
        }
        flushCounters();
        sessions.close();
    }

    @Override
    public int onFrame(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final int result = process(buffer, offset, length, false);
        if (result < 0 || egressPort == rxPort)
        {
            return result;
        }
        // Leaves by another interface: a copy into that port's tx batch (flushed at its poll in this duty cycle).
        if (!ports[egressPort].send(buffer, offset, result))
        {
            drop(Verdict.DROP_TX_FULL);
        }
        return PacketPort.CONSUMED;
    }

    /** Slot of the data interface the last transmitted frame leaves by (tests and diagnostics). */
    public int lastEgressPort()
    {
        return egressPort;
    }

    /** Handles one frame in place. @return the length to transmit, or {@link PacketPort#CONSUMED}. */
    public int process(final MutableDirectBuffer buffer, final int offset, final int length, final boolean handedOff)
    {
        frameBuffer = buffer;
        frameOffset = offset;
        frameLength = length;
        final Verdict parsed = parse(buffer, offset, length);
        if (parsed != Verdict.CONTINUE)
        {
            return drop(parsed);
        }

        if (protocol == IcmpHandler.PROTOCOL_ICMP || protocol == IcmpHandler.PROTOCOL_ICMPV6)
        {
            return icmp(buffer, offset, length, handedOff);
        }
        // The client-direction key's hash is the new flow's hash too: computed once.
        final long keyHash = FlowHash.hash(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
        if (pureSyn())
        {
            warmNewFlow(keyHash, handedOff);
        }
        final int ref = sessions.lookup(keyHash, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
        if (ref != SessionTable.NOT_FOUND && !(pureSyn() && endedClosingSession(ref)))
        {
            return forward(buffer, offset, length, SessionTable.recordOf(ref), SessionTable.directionOf(ref));
        }

        final ListenerTable t = tables;
        if (dstPort >= snatPortMin && dstPort <= snatPortMax && t.localAddressIndex(dstHigh, dstLow) >= 0)
        {
            final int owner = dstPort % forwarderCount;
            if (owner != index && !handedOff)
            {
                return handOff(owner, buffer, offset, length);
            }
            return drop(Verdict.DROP_UNSOLICITED);
        }

        // warmNewFlow looked the listener up already when the frame is a pure SYN.
        final ListenerState listener = pureSyn() ? warmListener : t.lookup(dstHigh, dstLow, dstPort, protocol);
        if (listener == null)
        {
            return drop(Verdict.DROP_NO_LISTENER);
        }
        final long flowHash = keyHash;
        if (forwarderCount > 1 && !handedOff)
        {
            final long ownerHash = listener.persistenceNs > 0 ?
                FlowHash.hash(srcHigh, srcLow, dstHigh, dstLow, 0, dstPort, protocol) : flowHash;
            final int owner = ownerOf(ownerHash, forwarderCount);
            if (owner != index)
            {
                return handOff(owner, buffer, offset, length);
            }
        }
        return newFlow(buffer, offset, length, listener, flowHash);
    }

    /** First SNAT port tried for a flow: {@code first + N × slot}, slot drawn from the flow hash. */
    public static int preferredSnatPort(final long flowHash, final int index, final int forwarderCount,
        final int snatPortMin, final int snatPortMax)
    {
        final int first = snatPortMin + Math.floorMod(index - snatPortMin, forwarderCount);
        final int count = (snatPortMax - first) / forwarderCount + 1;
        return first + firstSnatSlot(flowHash, count) * forwarderCount;
    }

    private static int firstSnatSlot(final long flowHash, final int count)
    {
        return (int)(((flowHash >>> 8) & 0xFFFF_FFFFL) % count);
    }

    /** The owning forwarder of a client flow hash: every node with the same forwarder count agrees. */
    public static int ownerOf(final long flowHash, final int forwarderCount)
    {
        return (int)((flowHash >>> 1) % forwarderCount);
    }

    @Override
    public void onExpired(final int record, final boolean closed)
    {
        if (!closed)
        {
            sessionEnded(SessionTable.offset(record));
            global.increment(GLOBAL_EXPIRED);
            countersDirty = true;
        }
    }

    /**
     * Parse and validate stage: sets the per-frame fields or returns the drop verdict, having counted the reason
     * (docs/fastpath.md, "Malformed input"). Checksums are verified here, before any session state is touched, so a
     * corrupt RST or SYN can neither end nor create a session.
     */
    private Verdict parse(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final int end = offset + length;
        // Reads through the buffer's base and address in locals (FrameBytes: the JIT keeps them in registers).
        final Object base = buffer.byteArray();
        final long address = buffer.addressOffset();
        if (length < EthernetFlyweight.HEADER_LENGTH)
        {
            return malformed(FastpathCounter.MALFORMED_ETHERNET_TRUNCATED);
        }
        // Read directly, not through the flyweights: the paths that need them (SYN-proxy, TOA, the rewrite's MACs) wrap
        // them where they use them, so parse does not pay the wraps on every frame.
        int etherType = FrameBytes.getUnsignedShort(base, address, offset + EthernetFlyweight.ETHER_TYPE_OFFSET);
        int l3 = offset + EthernetFlyweight.HEADER_LENGTH;
        if (etherType == EthernetFlyweight.ETHER_TYPE_VLAN)
        {
            if (l3 + VlanFlyweight.HEADER_LENGTH > end)
            {
                return malformed(FastpathCounter.MALFORMED_VLAN_TRUNCATED);
            }
            etherType = FrameBytes.getUnsignedShort(base, address, l3 + VlanFlyweight.ETHER_TYPE_OFFSET);
            l3 += VlanFlyweight.HEADER_LENGTH;
        }

        final long pseudo;
        if (etherType == EthernetFlyweight.ETHER_TYPE_IPV4)
        {
            if (l3 + Ipv4Flyweight.MIN_HEADER_LENGTH > end)
            {
                return malformed(FastpathCounter.MALFORMED_IPV4_TRUNCATED);
            }
            // The fixed 20 bytes in three loads (bounds checked above): the fields and the header checksum's sum come
            // from the same words, where one load per field and a separate pass for the checksum would read them twice.
            final long w0 = FrameBytes.getLong(base, address, l3);
            final long w1 = FrameBytes.getLong(base, address, l3 + 8);
            final int source = (int)w1;
            final int destination = FrameBytes.getInt(base, address, l3 + 16);
            final int headerLength = (int)(w0 >>> 54) & 0x3C;
            final int totalLength = (int)(w0 >>> 32) & 0xFFFF;
            if ((int)(w0 >>> 60) != 4)
            {
                return malformed(FastpathCounter.MALFORMED_IPV4_VERSION);
            }
            if (headerLength < Ipv4Flyweight.MIN_HEADER_LENGTH || l3 + headerLength > end)
            {
                return malformed(FastpathCounter.MALFORMED_IPV4_HEADER_LENGTH);
            }
            if (totalLength < headerLength || l3 + totalLength > end)
            {
                return malformed(FastpathCounter.MALFORMED_IPV4_TOTAL_LENGTH);
            }
            // One's complement sum of 32-bit words folds to the sum of the 16-bit words (2^16 = 1 mod 0xFFFF).
            long headerSum = (w0 >>> 32) + (w0 & 0xFFFF_FFFFL) + (w1 >>> 32) + (source & 0xFFFF_FFFFL) +
                (destination & 0xFFFF_FFFFL);
            if (headerLength > Ipv4Flyweight.MIN_HEADER_LENGTH)
            {
                headerSum = FrameBytes.sum(base, address, l3 + Ipv4Flyweight.MIN_HEADER_LENGTH,
                    headerLength - Ipv4Flyweight.MIN_HEADER_LENGTH, headerSum);
            }
            if (Checksums.fold(headerSum) != 0xFFFF)
            {
                return malformed(FastpathCounter.MALFORMED_IPV4_CHECKSUM);
            }
            if (((int)w0 & Ipv4Flyweight.FRAGMENT_MASK) != 0)
            {
                // Fragments carry no ports after the first; sluice does not reassemble (documented).
                return Verdict.DROP_FRAGMENT;
            }
            v4 = true;
            l3Offset = l3;
            protocol = (int)(w1 >>> 48) & 0xFF;
            ipLength = totalLength;
            l4Offset = l3 + headerLength;
            l4Length = totalLength - headerLength;
            srcHigh = 0;
            srcLow = IpAddresses.v4Low(source);
            dstHigh = 0;
            dstLow = IpAddresses.v4Low(destination);
            ipv4Checksum = (int)(w1 >>> 32) & 0xFFFF;
            pseudo = Checksums.pseudoHeaderV4(source, destination, protocol, l4Length);
        }
        else if (etherType == EthernetFlyweight.ETHER_TYPE_IPV6)
        {
            if (l3 + Ipv6Flyweight.HEADER_LENGTH > end)
            {
                return malformed(FastpathCounter.MALFORMED_IPV6_TRUNCATED);
            }
            ipv6.wrap(buffer, l3);
            final int payloadLength = ipv6.payloadLength();
            if (ipv6.version() != 6)
            {
                return malformed(FastpathCounter.MALFORMED_IPV6_VERSION);
            }
            if (l3 + Ipv6Flyweight.HEADER_LENGTH + payloadLength > end)
            {
                return malformed(FastpathCounter.MALFORMED_IPV6_PAYLOAD_LENGTH);
            }
            v4 = false;
            l3Offset = l3;
            protocol = ipv6.nextHeader();
            if (protocol == IPV6_FRAGMENT_HEADER)
            {
                return Verdict.DROP_FRAGMENT;
            }
            ipLength = Ipv6Flyweight.HEADER_LENGTH + payloadLength;
            l4Offset = l3 + Ipv6Flyweight.HEADER_LENGTH;
            l4Length = payloadLength;
            srcHigh = ipv6.sourceHigh();
            srcLow = ipv6.sourceLow();
            dstHigh = ipv6.destinationHigh();
            dstLow = ipv6.destinationLow();
            pseudo = Checksums.pseudoHeaderV6(srcHigh, srcLow, dstHigh, dstLow, protocol, l4Length);
        }
        else
        {
            return unsupported(FastpathCounter.UNSUPPORTED_ETHERTYPE);
        }
        pseudoSum = pseudo;
        // Locals, not the fields just written: the reads below would make the JIT re-read the fields (FrameBytes).
        final int l4 = l4Offset;
        final int l4Len = l4Length;
        final int proto = protocol;
        final boolean ipv4 = v4;

        if (proto == Ipv4Flyweight.PROTOCOL_TCP)
        {
            if (l4Len < TcpFlyweight.MIN_HEADER_LENGTH)
            {
                return malformed(FastpathCounter.MALFORMED_TCP_TRUNCATED);
            }
            // Ports in one load, data offset and flags in another.
            final int ports = FrameBytes.getInt(base, address, l4);
            final int offsetAndFlags = FrameBytes.getUnsignedShort(base, address, l4 + 12);
            final int headerLength = (offsetAndFlags >>> 10) & 0x3C;
            if (headerLength < TcpFlyweight.MIN_HEADER_LENGTH || headerLength > l4Len)
            {
                return malformed(FastpathCounter.MALFORMED_TCP_DATA_OFFSET);
            }
            srcPort = ports >>> 16;
            dstPort = ports & 0xFFFF;
            final int flags = offsetAndFlags & 0xFF;
            tcpFlags = flags;
            final int checksumAt = l4 + TcpFlyweight.CHECKSUM_OFFSET;
            checksumOffset = checksumAt;
            final int checksum = FrameValidation.l4Checksum(base, address, l4, l4Len, checksumAt, pseudo);
            if (checksum == FrameValidation.L4_INVALID)
            {
                return malformed(FastpathCounter.MALFORMED_TCP_CHECKSUM);
            }
            l4Partial = checksum == FrameValidation.L4_PARTIAL;
            if ((flags & TcpFlyweight.SYN) != 0 && !FrameValidation.tcpOptionsValid(buffer, l4, headerLength))
            {
                return malformed(FastpathCounter.MALFORMED_TCP_OPTIONS);
            }
        }
        else if (proto == Ipv4Flyweight.PROTOCOL_UDP)
        {
            if (l4Len < UdpFlyweight.HEADER_LENGTH)
            {
                return malformed(FastpathCounter.MALFORMED_UDP_TRUNCATED);
            }
            // The whole header in one load: ports, length, checksum.
            final long header = FrameBytes.getLong(base, address, l4);
            // Exactly the IP payload: sluice neither trims trailing bytes nor forwards them.
            if (((int)(header >>> 16) & 0xFFFF) != l4Len)
            {
                return malformed(FastpathCounter.MALFORMED_UDP_LENGTH);
            }
            srcPort = (int)(header >>> 48);
            dstPort = (int)(header >>> 32) & 0xFFFF;
            tcpFlags = 0;
            final int checksumAt = l4 + UdpFlyweight.CHECKSUM_OFFSET;
            checksumOffset = checksumAt;
            // Zero is "no checksum" over IPv4 only; over IPv6 it is invalid (RFC 8200 §8.1).
            if (!ipv4 || ((int)header & 0xFFFF) != 0)
            {
                final int checksum = FrameValidation.l4Checksum(base, address, l4, l4Len, checksumAt, pseudo);
                if (checksum == FrameValidation.L4_INVALID)
                {
                    return malformed(FastpathCounter.MALFORMED_UDP_CHECKSUM);
                }
                l4Partial = checksum == FrameValidation.L4_PARTIAL;
            }
            else
            {
                l4Partial = false;
            }
        }
        else if (proto == (ipv4 ? IcmpHandler.PROTOCOL_ICMP : IcmpHandler.PROTOCOL_ICMPV6))
        {
            if (l4Len < IcmpHandler.HEADER_LENGTH)
            {
                return malformed(FastpathCounter.MALFORMED_ICMP_TRUNCATED);
            }
            srcPort = 0;
            dstPort = 0;
            tcpFlags = 0;
            checksumOffset = l4 + 2;
            l4Partial = false;
            // ICMPv4 has no pseudo header; ICMPv6 has one, and may arrive partial from a local veth sender.
            if (!FrameValidation.l4ChecksumValid(buffer, l4, l4Len, checksumOffset, ipv4 ? 0 : pseudo))
            {
                return malformed(FastpathCounter.MALFORMED_ICMP_CHECKSUM);
            }
        }
        else
        {
            return unsupported(FastpathCounter.UNSUPPORTED_PROTOCOL);
        }
        return Verdict.CONTINUE;
    }

    private int icmp(final MutableDirectBuffer buffer, final int offset, final int length, final boolean handedOff)
    {
        final int result = icmp.handle(buffer, offset, v4, l3Offset, l4Offset, l4Length, tables,
            rxPort, handedOff);
        if (result == IcmpHandler.HANDOFF)
        {
            return handOff(icmp.handoffOwner(), buffer, offset, length);
        }
        if (result < 0)
        {
            return drop(icmp.verdict());
        }
        egressPort = icmp.egressPort();
        countersDirty = true;
        lastVerdict = Verdict.TX;
        return length;
    }

    private Verdict malformed(final FastpathCounter reason)
    {
        global.increment(reason.slot());
        return Verdict.DROP_MALFORMED;
    }

    private Verdict unsupported(final FastpathCounter reason)
    {
        global.increment(reason.slot());
        return Verdict.DROP_UNSUPPORTED;
    }

    private int newFlow(
        final MutableDirectBuffer buffer, final int offset, final int length, final ListenerState listener,
        final long flowHash)
    {
        boolean proxied = false;
        if (protocol == Ipv4Flyweight.PROTOCOL_TCP && listener.config.synProxy())
        {
            final int first = synProxyFirst(buffer, offset, listener);
            if (first != SYNPROXY_PROCEED)
            {
                return first;
            }
            proxied = true;
        }
        if (protocol == Ipv4Flyweight.PROTOCOL_TCP && !proxied &&
            (tcpFlags & (TcpFlyweight.SYN | TcpFlyweight.ACK | TcpFlyweight.RST)) != TcpFlyweight.SYN)
        {
            return drop(Verdict.DROP_NO_SESSION);
        }
        if (!listener.acl.admits(srcHigh, srcLow))
        {
            listener.counters.increment(L_DROP_ACL);
            return drop(Verdict.DROP_ACL);
        }
        if (listener.newFlows != null && !admitNewFlow(listener))
        {
            return PacketPort.CONSUMED;
        }
        if (listener.maxConnections > 0 && listener.counters.value(L_ACTIVE) >= listener.maxConnections)
        {
            listener.counters.increment(L_DROP_LIMIT);
            return drop(Verdict.DROP_LIMIT);
        }

        final ListenerTable t = tables;
        BackendState backend = null;
        // warmNewFlow ran for this frame iff it is a pure SYN; it leaves warmBackend null when it guessed nothing.
        final boolean reuse = pureSyn() && warmBackend != null;
        final long sourceHash = reuse ? warmSourceHash : FlowHash.hashAddress(srcHigh, srcLow);
        if (listener.persistenceNs > 0)
        {
            final int pinned = persistence.lookup(listener.id, srcHigh, srcLow, sourceHash, nowNs);
            if (pinned != PersistenceTable.NONE)
            {
                final BackendState candidate = t.backendById(pinned);
                if (candidate != null && candidate.up && candidate.owner() == listener)
                {
                    backend = candidate;
                }
            }
        }
        if (backend == null)
        {
            final int chosen = reuse ? listener.scheduler.take(warmChosen, flowHash, sourceHash, activeByBackend) :
                listener.scheduler.select(flowHash, sourceHash, activeByBackend);
            if (chosen == Scheduler.NONE)
            {
                listener.counters.increment(L_DROP_NO_BACKEND);
                return drop(Verdict.DROP_NO_BACKEND);
            }
            backend = listener.backends[chosen];
        }

        final long mac = nextHop(backend.addressHigh, backend.addressLow, backend);
        if (mac == NeighbourTable.NO_MAC)
        {
            return noNeighbour(backend.addressHigh, backend.addressLow);
        }

        final int record = allocateRecord();
        if (record == SessionTable.NO_RECORD)
        {
            listener.counters.increment(L_DROP_TABLE_FULL);
            return drop(Verdict.DROP_TABLE_FULL);
        }
        if (!pickSnat(backend, flowHash, reuse))
        {
            sessions.release(record);
            return drop(Verdict.DROP_NO_SNAT_PORT);
        }
        if (listener.persistenceNs > 0)
        {
            persistence.put(listener.id, srcHigh, srcLow, sourceHash, backend.id, nowNs, nowNs + listener.persistenceNs);
        }

        final int base = SessionTable.offset(record);
        // The fields by address (Records): through the buffer each store would be bounds-checked.
        final long at = sessions.address(base);
        final boolean isTcp = protocol == Ipv4Flyweight.PROTOCOL_TCP;
        final int timeout = isTcp ? configuration.embryonicTimeoutSeconds() : configuration.udpTimeoutSeconds();
        Records.putInt(at + GENERATION_OFFSET, 1);
        Records.putByte(at + STATE_OFFSET, isTcp ? SessionLayout.STATE_TCP_SYN_SENT : SessionLayout.STATE_UDP);
        Records.putByte(at + SessionLayout.PROTOCOL_OFFSET, (byte)protocol);
        Records.putByte(at + SessionLayout.FAMILY_OFFSET, (byte)(v4 ? 4 : 6));
        Records.putByte(at + SessionLayout.OWNER_OFFSET, (byte)index);
        Records.putLong(at + CLIENT_ADDRESS_OFFSET, srcHigh);
        Records.putLong(at + CLIENT_ADDRESS_OFFSET + 8, srcLow);
        Records.putLong(at + VIP_ADDRESS_OFFSET, dstHigh);
        Records.putLong(at + VIP_ADDRESS_OFFSET + 8, dstLow);
        Records.putLong(at + BACKEND_ADDRESS_OFFSET, backend.addressHigh);
        Records.putLong(at + BACKEND_ADDRESS_OFFSET + 8, backend.addressLow);
        Records.putLong(at + LOCAL_ADDRESS_OFFSET, t.localHigh(chosenLocal));
        Records.putLong(at + LOCAL_ADDRESS_OFFSET + 8, t.localLow(chosenLocal));
        Records.putShort(at + CLIENT_PORT_OFFSET, (short)srcPort);
        Records.putShort(at + VIP_PORT_OFFSET, (short)dstPort);
        Records.putShort(at + BACKEND_PORT_OFFSET, (short)backend.port);
        Records.putShort(at + LOCAL_PORT_OFFSET, (short)chosenPort);
        Records.putShort(at + LISTENER_ID_OFFSET, (short)listener.id);
        Records.putShort(at + BACKEND_ID_OFFSET, (short)backend.id);
        Records.putInt(at + SessionLayout.CREATED_SECONDS_OFFSET, (int)(nowNs / 1_000_000_000L));
        Records.putShort(at + TIMEOUT_SECONDS_OFFSET, (short)timeout);
        Records.putLong(at + LAST_SEEN_NS_OFFSET, nowNs);
        if (proxied)
        {
            Records.putShort(at + SessionLayout.FLAGS_OFFSET, SessionLayout.FLAG_SYNPROXY);
            Records.putInt(at + SessionLayout.SYNPROXY_SEQ_OFFSET, tcp.wrap(buffer, l4Offset).acknowledgment() - 1);
            if (l4Length > tcp.headerLength() && synProxy.hold(buffer, offset, length, record, SynProxy.heldKey(srcLow, srcPort)))
            {
                // The verified segment carried data (its ACK was lost): it becomes the SYN, its data waits.
                global.increment(GLOBAL_EARLY_DATA_HELD);
            }
        }
        sessions.insert(record, nowNs + timeout * 1_000_000_000L, flowHash, chosenReplyHash);

        global.increment(GLOBAL_NEW);
        global.increment(GLOBAL_ACTIVE);
        listener.counters.increment(L_NEW);
        listener.counters.increment(L_ACTIVE);
        backend.counters.increment(B_NEW);
        backend.counters.increment(B_ACTIVE);
        activeByBackend[backend.id]++;
        countersDirty = true;

        final int out = rewriteToBackend(buffer, offset, length, base, mac, listener, backend);
        if (offloadWriter != null && !proxied && offloadable(listener, offset))
        {
            offloadSession(at, backend);
            if ((Records.getUnsignedShort(at + SessionLayout.FLAGS_OFFSET) & SessionLayout.OFFLOAD_FLAGS) != 0)
            {
                global.increment(GLOBAL_OFFLOADED);
            }
        }
        return proxied ? synProxyBackendSyn(buffer, offset, base) : out;
    }

    /**
     * synProxy, no session yet. A pure SYN (ACL checked) is answered with a SYN-ACK whose ISN is a cookie, from the
     * VIP, and nothing is stored. An ACK (possibly with data) whose cookie verifies lets the new flow proceed (limits,
     * scheduler, session), its ACK then turned into the SYN towards the backend; anything else is dropped.
     *
     * @return {@link #SYNPROXY_PROCEED}, or the frame's outcome.
     */
    private int synProxyFirst(final MutableDirectBuffer buffer, final int offset, final ListenerState listener)
    {
        final int flags = tcpFlags & (TcpFlyweight.SYN | TcpFlyweight.ACK | TcpFlyweight.RST | TcpFlyweight.FIN);
        tcp.wrap(buffer, l4Offset);
        if (flags == TcpFlyweight.SYN)
        {
            if (!listener.acl.admits(srcHigh, srcLow))
            {
                listener.counters.increment(L_DROP_ACL);
                return drop(Verdict.DROP_ACL);
            }
            final long mac = nextHop(srcHigh, srcLow);
            if (mac == NeighbourTable.NO_MAC)
            {
                return noNeighbour(srcHigh, srcLow);
            }
            final int isn = tcp.sequence();
            final int mssIndex = SynProxy.mssIndex(SynProxy.mssOption(buffer, l4Offset, tcp.headerLength()));
            final int cookie = synProxy.cookie(nowNs, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, isn, mssIndex);
            final int length = synProxy.writeSegment(buffer, offset, l3Offset, mac, portMacs[egressPort], v4,
                dstHigh, dstLow, srcHigh, srcLow, dstPort, srcPort, cookie, isn + 1, TcpFlyweight.SYN | TcpFlyweight.ACK,
                SynProxy.MSS_TABLE[mssIndex], -1, 0, 0);
            return sendScratch(length, Verdict.SYN_COOKIE);
        }
        if ((flags & TcpFlyweight.ACK) != 0 && (flags & (TcpFlyweight.SYN | TcpFlyweight.RST | TcpFlyweight.FIN)) == 0)
        {
            final int mssIndex = synProxy.verify(nowNs, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort,
                tcp.sequence() - 1, tcp.acknowledgment() - 1);
            if (mssIndex < 0)
            {
                return drop(Verdict.DROP_BAD_COOKIE);
            }
            proxyMssIndex = mssIndex;
            global.increment(GLOBAL_COOKIES_ACCEPTED);
            countersDirty = true;
            return SYNPROXY_PROCEED;
        }
        return drop(Verdict.DROP_NO_SESSION);
    }

    /** The verified ACK, already rewritten towards the backend, becomes the SYN that opens the backend connection. */
    private int synProxyBackendSyn(final MutableDirectBuffer buffer, final int offset, final int base)
    {
        final MutableDirectBuffer r = sessions.records();
        final int clientIsn = tcp.wrap(buffer, l4Offset).sequence() - 1;
        final int length = synProxy.writeSegment(buffer, offset, l3Offset, ethernet.wrap(buffer, offset).destination(),
            portMacs[egressPort], v4, r.getLong(base + LOCAL_ADDRESS_OFFSET), r.getLong(base + LOCAL_ADDRESS_OFFSET + 8),
            r.getLong(base + BACKEND_ADDRESS_OFFSET), r.getLong(base + BACKEND_ADDRESS_OFFSET + 8),
            r.getShort(base + LOCAL_PORT_OFFSET) & 0xFFFF, r.getShort(base + BACKEND_PORT_OFFSET) & 0xFFFF, clientIsn, 0,
            TcpFlyweight.SYN, SynProxy.MSS_TABLE[proxyMssIndex], -1, 0, 0);
        return sendScratch(length, Verdict.TX);
    }

    /**
     * A frame of a synProxy session before the FullNAT rewrite. Until the backend answers, client segments other than
     * RST are dropped (the client retransmits them); the backend's SYN-ACK fixes the sequence delta, establishes the
     * session and is answered with the ACK that completes the backend's handshake (with TOA when asked); a repeated
     * SYN-ACK (that ACK lost) is answered again.
     *
     * @return {@link #SYNPROXY_PROCEED} to forward normally, or the frame's outcome.
     */
    private int synProxySession(final MutableDirectBuffer buffer, final int offset, final int length, final int record,
        final int base, final int direction, final int proxyFlags, final ListenerState listener)
    {
        final MutableDirectBuffer r = sessions.records();
        final boolean fromClient = direction == SessionLayout.DIRECTION_CLIENT;
        final boolean synAck = (tcpFlags & (TcpFlyweight.SYN | TcpFlyweight.ACK | TcpFlyweight.RST)) ==
            (TcpFlyweight.SYN | TcpFlyweight.ACK);
        if ((proxyFlags & SessionLayout.FLAG_SEQ_DELTA) == 0)
        {
            if ((tcpFlags & TcpFlyweight.RST) != 0)
            {
                return SYNPROXY_PROCEED;
            }
            if (fromClient)
            {
                if (l4Length > tcp.wrap(buffer, l4Offset).headerLength() &&
                    synProxy.hold(buffer, offset, length, record, SynProxy.heldKey(srcLow, srcPort)))
                {
                    global.increment(GLOBAL_EARLY_DATA_HELD);
                    countersDirty = true;
                    lastVerdict = Verdict.CONTINUE;
                    return PacketPort.CONSUMED;
                }
                return drop(Verdict.DROP_SYNPROXY_EARLY_DATA);
            }
            if (!synAck)
            {
                return drop(Verdict.DROP_UNSOLICITED);
            }
            final int backendIsn = tcp.wrap(buffer, l4Offset).sequence();
            r.putInt(base + SessionLayout.SYNPROXY_SEQ_OFFSET, r.getInt(base + SessionLayout.SYNPROXY_SEQ_OFFSET) - backendIsn);
            r.putShort(base + SessionLayout.FLAGS_OFFSET, (short)(proxyFlags | SessionLayout.FLAG_SEQ_DELTA));
            enterState(sessions.address(base), SessionLayout.STATE_TCP_ESTABLISHED, idleTimeoutSeconds(listener));
            global.increment(GLOBAL_SYNPROXY_HANDSHAKES);
            countersDirty = true;
        }
        else if (fromClient || !synAck)
        {
            return SYNPROXY_PROCEED;
        }
        r.putLong(base + LAST_SEEN_NS_OFFSET, nowNs);
        final long bh = r.getLong(base + BACKEND_ADDRESS_OFFSET);
        final long bl = r.getLong(base + BACKEND_ADDRESS_OFFSET + 8);
        final long mac = nextHop(bh, bl);
        if (mac == NeighbourTable.NO_MAC)
        {
            return noNeighbour(bh, bl);
        }
        final boolean toa = listener != null && listener.config.toa();
        tcp.wrap(buffer, l4Offset);
        final int ackLength = synProxy.writeSegment(buffer, offset, l3Offset, mac, portMacs[egressPort], v4,
            r.getLong(base + LOCAL_ADDRESS_OFFSET), r.getLong(base + LOCAL_ADDRESS_OFFSET + 8), bh, bl,
            r.getShort(base + LOCAL_PORT_OFFSET) & 0xFFFF, r.getShort(base + BACKEND_PORT_OFFSET) & 0xFFFF,
            tcp.acknowledgment(), tcp.sequence() + 1, TcpFlyweight.ACK, 0,
            toa ? r.getShort(base + CLIENT_PORT_OFFSET) & 0xFFFF : -1,
            r.getLong(base + CLIENT_ADDRESS_OFFSET), r.getLong(base + CLIENT_ADDRESS_OFFSET + 8));
        if (toa)
        {
            global.increment(GLOBAL_TOA_ADDED);
            countersDirty = true;
        }
        final int sent = sendScratch(ackLength, Verdict.TX);
        replayHeld(record, SynProxy.heldKey(r.getLong(base + CLIENT_ADDRESS_OFFSET + 8), r.getShort(base + CLIENT_PORT_OFFSET) & 0xFFFF));
        return sent;
    }

    /** The client segments held while the backend had not answered go through the established session now, in order. */
    private void replayHeld(final int record, final long key)
    {
        int length;
        while ((length = synProxy.takeHeld(record, key)) > 0)
        {
            final MutableDirectBuffer frame = synProxy.replayBuffer();
            final int result = process(frame, 0, length, true);
            if (result >= 0 && !ports[egressPort].send(frame, 0, result))
            {
                drop(Verdict.DROP_TX_FULL);
            }
        }
    }

    /** After the rewrite: sequence translation, or a backend's RST to our SYN made acceptable to the client. */
    private void synProxyTranslate(final MutableDirectBuffer buffer, final MutableDirectBuffer r, final int base,
        final boolean fromClient, final int proxyFlags)
    {
        final int seq = r.getInt(base + SessionLayout.SYNPROXY_SEQ_OFFSET);
        if ((proxyFlags & SessionLayout.FLAG_SEQ_DELTA) != 0)
        {
            SynProxy.translate(buffer, l4Offset, fromClient, seq, tcpFlags);
        }
        else if (!fromClient)
        {
            final int field = l4Offset + TcpFlyweight.SEQUENCE_OFFSET;
            SynProxy.replace32(buffer, l4Offset, field, buffer.getInt(field, java.nio.ByteOrder.BIG_ENDIAN), seq + 1);
        }
    }

    /**
     * TOA on a listener without synProxy: the client's ACK completing the handshake gets the option (a copy, one
     * option longer); the backend's SYN-ACK gets its MSS lowered by the option's length so that ACK always fits.
     */
    private int toaHandshake(final MutableDirectBuffer buffer, final int offset, final int result,
        final MutableDirectBuffer r, final int base, final boolean fromClient)
    {
        final byte state = r.getByte(base + STATE_OFFSET);
        final int flags = tcpFlags & (TcpFlyweight.SYN | TcpFlyweight.ACK | TcpFlyweight.RST | TcpFlyweight.FIN);
        if (fromClient && state == SessionLayout.STATE_TCP_SYN_RECEIVED && flags == TcpFlyweight.ACK)
        {
            final int length = Toa.insert(buffer, offset, l3Offset, l4Offset, ipLength, v4,
                r.getShort(base + CLIENT_PORT_OFFSET) & 0xFFFF, r.getLong(base + CLIENT_ADDRESS_OFFSET),
                r.getLong(base + CLIENT_ADDRESS_OFFSET + 8), synProxy.scratch());
            if (length < 0)
            {
                global.increment(GLOBAL_TOA_NO_ROOM);
                countersDirty = true;
                return result;
            }
            global.increment(GLOBAL_TOA_ADDED);
            countersDirty = true;
            return sendScratch(length, Verdict.TX);
        }
        if (!fromClient && state == SessionLayout.STATE_TCP_SYN_SENT && flags == (TcpFlyweight.SYN | TcpFlyweight.ACK))
        {
            final int mssAt = SynProxy.mssOptionOffset(buffer, l4Offset, tcp.wrap(buffer, l4Offset).headerLength());
            if (mssAt >= 0)
            {
                final int old = buffer.getShort(mssAt, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
                final int clamped = Math.max(SynProxy.MSS_TABLE[0], old - Toa.length(v4));
                if (clamped < old)
                {
                    buffer.putShort(mssAt, (short)clamped, java.nio.ByteOrder.BIG_ENDIAN);
                    final int checksum = tcp.checksum();
                    tcp.checksum(Checksums.apply(checksum, Checksums.delta16(old, clamped)));
                }
            }
        }
        return result;
    }

    /** Sends the frame {@link SynProxy} wrote into its scratch buffer by the egress port; the input is consumed. */
    private int sendScratch(final int length, final Verdict verdict)
    {
        if (!ports[egressPort].send(synProxy.scratch(), 0, length))
        {
            return drop(Verdict.DROP_TX_FULL);
        }
        if (verdict.counter() != null)
        {
            global.increment(verdict.counter().slot());
            countersDirty = true;
        }
        lastVerdict = verdict;
        return PacketPort.CONSUMED;
    }

    /** Per-source then listener new-flow buckets; a refusal is dropped and counted here. */
    private boolean admitNewFlow(final ListenerState listener)
    {
        final io.sluice.fastpath.lb.NewFlowLimiter limiter = listener.newFlows;
        if (!limiter.trySource(FlowHash.hashAddress(srcHigh, srcLow), nowNs))
        {
            listener.counters.increment(L_DROP_SOURCE_NEW_FLOW_RATE);
            drop(Verdict.DROP_SOURCE_NEW_FLOW_RATE);
            return false;
        }
        if (!limiter.tryListener(nowNs))
        {
            listener.counters.increment(L_DROP_NEW_FLOW_RATE);
            drop(Verdict.DROP_NEW_FLOW_RATE);
            return false;
        }
        return true;
    }

    /** A free record, else (table full) the oldest embryonic or closed one reclaimed: never an established session. */
    private int allocateRecord()
    {
        final int record = sessions.allocate();
        if (record != SessionTable.NO_RECORD)
        {
            return record;
        }
        final int reclaimed = sessions.reclaim(SessionTable.RECLAIM_BUDGET, offloadWriter != null ? this : null);
        if (reclaimed != SessionTable.NO_RECORD)
        {
            final int base = SessionTable.offset(reclaimed);
            if (sessions.records().getByte(base + STATE_OFFSET) != SessionLayout.STATE_CLOSED)
            {
                sessionEnded(base);
            }
            sessions.reuse(reclaimed);
            global.increment(GLOBAL_RECLAIMED);
            countersDirty = true;
        }
        return reclaimed;
    }

    /**
     * Chooses a local address of the flow's family and a free port ≡ index (mod N); sets chosenLocal/chosenPort.
     * Both start from positions drawn from the flow hash, so the (local, backend) pairs and the ports within them
     * fill evenly whatever the scheduler's rhythm (a cursor shared by all pairs would correlate with a round-robin
     * scheduler and leave most of the port space unused); then probe linearly with step N.
     */
    private boolean pickSnat(final BackendState backend, final long flowHash, final boolean reuse)
    {
        final ListenerTable t = tables;
        final int local = reuse ? warmLocal : snatLocal(t, flowHash);
        if (local < 0)
        {
            return false;
        }
        final long localHigh = t.localHigh(local);
        final long localLow = t.localLow(local);
        int slot = reuse ? warmSlot : firstSnatSlot(flowHash, snatPortCount);
        final int attempts = Math.min(configuration.snatProbeLimit(), snatPortCount);
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            final int candidatePort = firstSnatPort + slot * forwarderCount;
            slot = slot + 1 == snatPortCount ? 0 : slot + 1;
            final long replyHash = attempt == 0 && reuse && backend == warmBackend ? warmReplyHash :
                FlowHash.hash(backend.addressHigh, backend.addressLow, localHigh, localLow, backend.port, candidatePort, protocol);
            if (!sessions.replyKeyInUse(replyHash, backend.addressHigh, backend.addressLow, localHigh, localLow, backend.port,
                candidatePort, protocol))
            {
                chosenLocal = local;
                chosenPort = candidatePort;
                chosenReplyHash = replyHash;
                return true;
            }
        }
        return false;
    }

    /** The local address of the frame's family a flow's SNAT starts at (drawn from its hash), or -1 when there is none. */
    private int snatLocal(final ListenerTable t, final long flowHash)
    {
        final int locals = t.localAddressCount();
        if (locals == 0)
        {
            return -1;
        }
        final int startLocal = (int)((flowHash >>> 40) % locals);
        for (int i = 0; i < locals; i++)
        {
            final int candidate = startLocal + i < locals ? startLocal + i : startLocal + i - locals;
            if (IpAddresses.isV4(t.localHigh(candidate), t.localLow(candidate)) == v4)
            {
                return candidate;
            }
        }
        return -1;
    }

    /**
     * A pure SYN is almost always a new flow, which probes the index twice: its client key (not found), then, after
     * listener, scheduler and next hop, the reply key of its first SNAT port. In a large table both are cache misses,
     * and the second address depends on the scheduler's choice, so they were paid one after the other. Here both home
     * slots are loaded before either result is needed — the reply key's from the backend the scheduler would choose
     * ({@link Scheduler#peek}, nothing changes state) — so the CPU waits for the two misses at once, and the lookup and
     * the probe that follow find their lines in cache (Java has no prefetch instruction). A wrong guess (the SYN of a
     * live session, a refused flow, a flow handed off) costs a wasted load; otherwise newFlow takes the guessed backend
     * ({@link Scheduler#take}), which is what select would have chosen. The guess's local
     * address, first port slot and hashes are kept in the {@code warm*} fields for this frame's new flow, and so is
     * the listener (fields, not a return value: nothing stays live across the lookup of every other frame).
     */
    private void warmNewFlow(final long keyHash, final boolean handedOff)
    {
        final int clientSlot = sessions.touch(keyHash);
        int replySlot = 0;
        warmBackend = null;
        final ListenerTable t = tables;
        final ListenerState listener = t.lookup(dstHigh, dstLow, dstPort, protocol);
        warmListener = listener;
        if (listener != null && listener.persistenceNs == 0 && !listener.config.synProxy() &&
            (forwarderCount == 1 || handedOff || ownerOf(keyHash, forwarderCount) == index))
        {
            final long sourceHash = FlowHash.hashAddress(srcHigh, srcLow);
            final int chosen = listener.scheduler.peek(keyHash, sourceHash, activeByBackend);
            final int local = snatLocal(t, keyHash);
            if (chosen != Scheduler.NONE && local >= 0)
            {
                final BackendState backend = listener.backends[chosen];
                final int slot = firstSnatSlot(keyHash, snatPortCount);
                final long replyHash = FlowHash.hash(backend.addressHigh, backend.addressLow, t.localHigh(local),
                    t.localLow(local), backend.port, firstSnatPort + slot * forwarderCount, protocol);
                replySlot = sessions.touch(replyHash);
                warmBackend = backend;
                warmChosen = chosen;
                warmSourceHash = sourceHash;
                warmLocal = local;
                warmSlot = slot;
                warmReplyHash = replyHash;
            }
        }
        // The loads must not sink below here to their only use (the compiler places a load as late as it can).
        UnsafeApi.loadFence();
        warmedSlots = clientSlot ^ replySlot;
    }

    /** A TCP segment with SYN and neither ACK nor RST: almost always a new flow (warmNewFlow runs for exactly these). */
    /**
     * A client's pure SYN on a 5-tuple whose session saw a FIN: the client reused its port within the closing timeout.
     * That session ends here and the SYN starts a new one (scheduled afresh, with its own SNAT port), instead of riding
     * the closing session to the old backend and expiring with it, mid-connection, when the closing timeout runs out.
     *
     * @return true when the session was ended (the frame is a new flow now).
     */
    private boolean endedClosingSession(final int ref)
    {
        if (SessionTable.directionOf(ref) != SessionLayout.DIRECTION_CLIENT)
        {
            return false;
        }
        final int record = SessionTable.recordOf(ref);
        final int base = SessionTable.offset(record);
        if (Records.getByte(sessions.address(base) + STATE_OFFSET) != SessionLayout.STATE_TCP_CLOSING)
        {
            return false;
        }
        sessions.close(record);
        sessionEnded(base);
        return true;
    }

    private boolean pureSyn()
    {
        return protocol == Ipv4Flyweight.PROTOCOL_TCP &&
            (tcpFlags & (TcpFlyweight.SYN | TcpFlyweight.ACK | TcpFlyweight.RST)) == TcpFlyweight.SYN;
    }

    private int forward(final MutableDirectBuffer buffer, final int offset, final int length, final int record,
        final int direction)
    {
        final MutableDirectBuffer r = sessions.records();
        final int base = SessionTable.offset(record);
        // The common path's record fields by address (Records: no bounds check, no buffer re-reads).
        final long at = sessions.address(base);
        final ListenerTable t = tables;
        final ListenerState listener = t.listenerById(Records.getUnsignedShort(at + LISTENER_ID_OFFSET));
        final BackendState backend = t.backendById(Records.getUnsignedShort(at + BACKEND_ID_OFFSET));
        // Parse results read once here: after the rewrite's Unsafe stores the JIT would re-read the fields.
        final boolean isTcp = protocol == Ipv4Flyweight.PROTOCOL_TCP;
        final int flags = tcpFlags;
        final int recordFlags = Records.getUnsignedShort(at + SessionLayout.FLAGS_OFFSET);
        final int proxyFlags = isTcp ? recordFlags & SessionLayout.SYNPROXY_FLAGS : 0;
        if (proxyFlags != 0)
        {
            final int handled = synProxySession(buffer, offset, length, record, base, direction, proxyFlags, listener);
            if (handled != SYNPROXY_PROCEED)
            {
                return handled;
            }
        }
        int result;
        boolean hold = false;
        if (direction == SessionLayout.DIRECTION_CLIENT)
        {
            final long bh = Records.getLong(at + BACKEND_ADDRESS_OFFSET);
            final long bl = Records.getLong(at + BACKEND_ADDRESS_OFFSET + 8);
            final long mac = nextHop(bh, bl, backend);
            if (mac == NeighbourTable.NO_MAC)
            {
                return noNeighbour(bh, bl);
            }
            result = rewriteToBackend(buffer, offset, length, base, mac, listener, backend);
        }
        else
        {
            int shaping = BandwidthLimiter.PASS;
            if (listener != null && listener.bandwidth.limited())
            {
                shaping = limiter.admit(listener, nowNs, length, ipLength);
                if (shaping == BandwidthLimiter.DROP)
                {
                    listener.counters.increment(L_DROP_BANDWIDTH);
                    listener.bandwidth.countDrop();
                    return drop(Verdict.DROP_BANDWIDTH);
                }
            }
            final long ch = Records.getLong(at + CLIENT_ADDRESS_OFFSET);
            final long cl = Records.getLong(at + CLIENT_ADDRESS_OFFSET + 8);
            final long mac = nextHop(ch, cl);
            if (mac == NeighbourTable.NO_MAC)
            {
                return noNeighbour(ch, cl);
            }
            rewrite(buffer, Records.getLong(at + VIP_ADDRESS_OFFSET), Records.getLong(at + VIP_ADDRESS_OFFSET + 8), ch, cl,
                Records.getUnsignedShort(at + VIP_PORT_OFFSET), Records.getUnsignedShort(at + CLIENT_PORT_OFFSET));
            EthernetFlyweight.writeMacs(buffer, offset, mac, portMacs[egressPort]);
            countForwarded(at, false, listener, backend);
            lastVerdict = Verdict.TX;
            result = length;
            hold = shaping == BandwidthLimiter.HOLD;
        }
        if (proxyFlags != 0)
        {
            synProxyTranslate(buffer, r, base, direction == SessionLayout.DIRECTION_CLIENT, proxyFlags);
        }
        else if (isTcp && listener != null && listener.config.toa())
        {
            result = toaHandshake(buffer, offset, result, r, base, direction == SessionLayout.DIRECTION_CLIENT);
        }
        if (hold)
        {
            // Over the peak but within the queue: the frame, fully rewritten (sequence translation included), leaves
            // from limiter.release once the buckets refill.
            limiter.enqueue(listener.id, buffer, offset, length, ipLength, egressPort);
            listener.counters.increment(L_BANDWIDTH_DELAYED);
            listener.bandwidth.countDelayed();
            result = PacketPort.CONSUMED;
        }
        Records.putLong(at + LAST_SEEN_NS_OFFSET, nowNs);
        if ((recordFlags & SessionLayout.OFFLOAD_FLAGS) != 0 && (flags & (TcpFlyweight.SYN | TcpFlyweight.FIN | TcpFlyweight.RST)) == 0
            && Records.getInt(at + SessionLayout.OFFLOAD_EPOCH_OFFSET) != offloadEpoch)
        {
            // The program handed up a stale entry's frame (a next hop changed): install it again with today's MACs.
            offloadSession(at, backend);
            global.increment(GLOBAL_OFFLOAD_REFRESHED);
        }
        if (isTcp)
        {
            trackTcp(base, at, record, direction == SessionLayout.DIRECTION_CLIENT, listener, flags);
        }
        return result;
    }

    /**
     * One forwarded frame of the session whose record is at {@code at}: the record's totals, and its backend's plain
     * fields, published to the backend, listener, load balancer and global counters at flush (BackendTraffic); a
     * session whose backend is no longer its listener's counts straight into the counters.
     */
    private void countForwarded(final long at, final boolean toBackend, final ListenerState listener, final BackendState backend)
    {
        final long bytesAt = at + (toBackend ? BYTES_IN_OFFSET : BYTES_OUT_OFFSET);
        final long packetsAt = at + (toBackend ? PACKETS_IN_OFFSET : PACKETS_OUT_OFFSET);
        Records.putLong(bytesAt, Records.getLong(bytesAt) + ipLength);
        Records.putInt(packetsAt, Records.getInt(packetsAt) + 1);
        if (backend != null && backend.owner() == listener)
        {
            if (toBackend)
            {
                backend.packetsIn++;
                backend.bytesIn += ipLength;
            }
            else
            {
                backend.packetsOut++;
                backend.bytesOut += ipLength;
            }
        }
        else
        {
            BackendTraffic.count(global, listener, backend, toBackend, 1, ipLength);
        }
        countersDirty = true;
    }

    private int rewriteToBackend(final MutableDirectBuffer buffer, final int offset, final int length, final int base,
        final long mac, final ListenerState listener, final BackendState backend)
    {
        final long at = sessions.address(base);
        rewrite(buffer, Records.getLong(at + LOCAL_ADDRESS_OFFSET), Records.getLong(at + LOCAL_ADDRESS_OFFSET + 8),
            Records.getLong(at + BACKEND_ADDRESS_OFFSET), Records.getLong(at + BACKEND_ADDRESS_OFFSET + 8),
            Records.getUnsignedShort(at + LOCAL_PORT_OFFSET), Records.getUnsignedShort(at + BACKEND_PORT_OFFSET));
        EthernetFlyweight.writeMacs(buffer, offset, mac, portMacs[egressPort]);
        countForwarded(at, true, listener, backend);
        lastVerdict = Verdict.TX;
        return length;
    }

    /**
     * Rewrites L3/L4 addresses and ports and fixes checksums: RFC 1624 incremental updates, except for frames whose
     * L4 checksum field holds only the pseudo-header sum (CHECKSUM_PARTIAL from a veth with TX offload), which get a
     * full checksum computed over the segment (the parse says which, {@code l4Partial}). A complete checksum that
     * equals that pattern by chance verified as complete and is updated incrementally, which gives the same 16 bits.
     */
    private void rewrite(final MutableDirectBuffer buffer, final long newSrcHigh, final long newSrcLow,
        final long newDstHigh, final long newDstLow, final int newSrcPort, final int newDstPort)
    {
        // The parse results in locals first: every store into the frame is a store through Unsafe, after which the
        // compiler must re-read any field of this agent it has not kept in a register.
        final boolean isUdp = protocol == Ipv4Flyweight.PROTOCOL_UDP;
        final boolean ipv4 = v4;
        final int l4 = l4Offset;
        final int checksumAt = checksumOffset;
        final int l4Len = l4Length;
        final int oldSrcPort = srcPort;
        final int oldDstPort = dstPort;
        final long oldPseudo = pseudoSum;
        final boolean partial = l4Partial;
        final Object base = buffer.byteArray();
        final long address = buffer.addressOffset();
        final long addressDelta;
        if (ipv4)
        {
            final int oldSrc = (int)srcLow;
            final int oldDst = (int)dstLow;
            final int newSrc = (int)newSrcLow;
            final int newDst = (int)newDstLow;
            addressDelta = Checksums.delta32(oldSrc, newSrc) + Checksums.delta32(oldDst, newDst);
            // Source and destination are adjacent (offsets 12 and 16): one store for both.
            final int l3 = l3Offset;
            FrameBytes.putLong(base, address, l3 + 12, (long)newSrc << 32 | (newDst & 0xFFFF_FFFFL));
            FrameBytes.putShort(base, address, l3 + 10, Checksums.apply(ipv4Checksum, addressDelta));
        }
        else
        {
            addressDelta = Checksums.delta64(srcHigh, newSrcHigh) + Checksums.delta64(srcLow, newSrcLow) +
                Checksums.delta64(dstHigh, newDstHigh) + Checksums.delta64(dstLow, newDstLow);
            ipv6.source(newSrcHigh, newSrcLow).destination(newDstHigh, newDstLow);
        }

        final int oldChecksum = FrameBytes.getUnsignedShort(base, address, checksumAt);
        FrameBytes.putInt(base, address, l4, newSrcPort << 16 | newDstPort);
        if (isUdp && ipv4 && oldChecksum == 0)
        {
            return;
        }
        int checksum;
        // Parse found the field holding only the pseudo header's fold; parse tried the complete checksum first, so a
        // complete one equal to that value by chance is updated incrementally: the same 16 bits as recomputing it (both
        // give the one representative in 0..0xFFFE of the same one's complement sum).
        if (partial)
        {
            FrameBytes.putShort(base, address, checksumAt, 0);
            // The new pseudo header sums to the old one plus the address delta (one's complement arithmetic).
            checksum = Checksums.finish(FrameBytes.sum(base, address, l4, l4Len, oldPseudo + addressDelta));
        }
        else
        {
            checksum = Checksums.apply(oldChecksum, addressDelta + Checksums.delta16(oldSrcPort, newSrcPort) +
                Checksums.delta16(oldDstPort, newDstPort));
        }
        if (isUdp && checksum == 0)
        {
            checksum = 0xFFFF;
        }
        FrameBytes.putShort(base, address, checksumAt, checksum);
    }

    /** @param at the record's address ({@code sessions.address(base)}); @param flags the segment's TCP flags */
    private void trackTcp(final int base, final long at, final int record,
        final boolean fromClient, final ListenerState listener, final int flags)
    {
        if ((flags & TcpFlyweight.RST) != 0)
        {
            sessions.close(record);
            sessionEnded(base);
            return;
        }
        final byte state = Records.getByte(at + STATE_OFFSET);
        // The established flow's common segment (no SYN, FIN or RST) changes nothing: out before the transitions.
        if (state == SessionLayout.STATE_TCP_ESTABLISHED && (flags & (TcpFlyweight.SYN | TcpFlyweight.FIN)) == 0)
        {
            return;
        }
        byte next = state;
        if ((flags & TcpFlyweight.FIN) != 0)
        {
            next = SessionLayout.STATE_TCP_CLOSING;
        }
        else if (state == SessionLayout.STATE_TCP_SYN_SENT && !fromClient &&
            (flags & (TcpFlyweight.SYN | TcpFlyweight.ACK)) == (TcpFlyweight.SYN | TcpFlyweight.ACK))
        {
            next = SessionLayout.STATE_TCP_SYN_RECEIVED;
        }
        else if (state == SessionLayout.STATE_TCP_SYN_RECEIVED && fromClient &&
            (flags & (TcpFlyweight.SYN | TcpFlyweight.ACK)) == TcpFlyweight.ACK)
        {
            next = SessionLayout.STATE_TCP_ESTABLISHED;
        }
        if (next != state)
        {
            final int timeout = switch (next)
            {
                case SessionLayout.STATE_TCP_ESTABLISHED -> idleTimeoutSeconds(listener);
                case SessionLayout.STATE_TCP_CLOSING -> configuration.closingTimeoutSeconds();
                default -> configuration.embryonicTimeoutSeconds();
            };
            enterState(at, next, timeout);
            if (next == SessionLayout.STATE_TCP_CLOSING)
            {
                sessions.expedite(record, nowNs + timeout * 1_000_000_000L);
            }
        }
    }

    private void sessionEnded(final int base)
    {
        final MutableDirectBuffer r = sessions.records();
        if (offloadWriter != null && (r.getShort(base + SessionLayout.FLAGS_OFFSET) & SessionLayout.OFFLOAD_FLAGS) != 0)
        {
            removeOffload(sessions.address(base));
        }
        final ListenerTable t = tables;
        final int backendId = r.getShort(base + BACKEND_ID_OFFSET) & 0xFFFF;
        global.add(GLOBAL_ACTIVE, -1);
        final ListenerState listener = t.listenerById(r.getShort(base + LISTENER_ID_OFFSET) & 0xFFFF);
        if (listener != null)
        {
            listener.counters.add(L_ACTIVE, -1);
        }
        final BackendState backend = t.backendById(backendId);
        if (backend != null)
        {
            backend.counters.add(B_ACTIVE, -1);
        }
        activeByBackend[backendId]--;
        countersDirty = true;
    }

    /**
     * A new session the XDP program may forward: TCP or UDP on a listener whose frames need no per-frame work here
     * (no TOA option to add, no bandwidth peak to shape by; synProxy sessions are never offered), arriving untagged
     * (the program offloads no 802.1Q frames).
     */
    private boolean offloadable(final ListenerState listener, final int offset)
    {
        return offloadable(listener) && l3Offset - offset == EthernetFlyweight.HEADER_LENGTH;
    }

    private static boolean offloadable(final ListenerState listener)
    {
        return !listener.config.toa() && !listener.bandwidth.limited();
    }

    /**
     * A new table generation: a listener whose sessions were offloadable and now are not (a bandwidth peak, its own or its
     * load balancer's, or toa switched on) has its offloaded sessions taken out of the flow table by a budgeted sweep,
     * so its peak shapes their frames from then on.
     */
    private void noteOffloadChanges(final ListenerTable before, final ListenerTable after)
    {
        for (final ListenerState listener : after.listeners())
        {
            final ListenerState old = before.listenerById(listener.id);
            if (old != null && offloadable(old) && !offloadable(listener))
            {
                unoffload.set(listener.id);
                unoffloadCursor = 0;
            }
        }
    }

    /** Walks {@link #OFFLOAD_SWEEP_BUDGET} records of the sweep. @return records examined. */
    private int sweepUnoffload()
    {
        final int capacity = sessions.capacity();
        final int end = Math.min(capacity, unoffloadCursor + OFFLOAD_SWEEP_BUDGET);
        for (int record = unoffloadCursor; record < end; record++)
        {
            final long at = sessions.address(SessionTable.offset(record));
            final byte state = Records.getByte(at + STATE_OFFSET);
            if (state != SessionLayout.STATE_FREE && state != SessionLayout.STATE_CLOSED
                && (Records.getUnsignedShort(at + SessionLayout.FLAGS_OFFSET) & SessionLayout.OFFLOAD_FLAGS) != 0
                && unoffload.get(Records.getUnsignedShort(at + LISTENER_ID_OFFSET)))
            {
                removeOffload(at);
            }
        }
        final int examined = end - unoffloadCursor;
        unoffloadCursor = end == capacity ? -1 : end;
        if (unoffloadCursor < 0)
        {
            unoffload.clear();
        }
        return examined;
    }

    /**
     * Installs (or installs again) the session's two directions in the XDP flow table, each whose next hop is known,
     * under this cycle's epoch; the record's offload flags say which are in. Leaves {@code egressPort} as it was.
     */
    private void offloadSession(final long at, final BackendState backend)
    {
        final int savedEgress = egressPort;
        final int epoch = offloadEpoch;
        final XdpFlowTable.Writer writer = offloadWriter;
        final long ch = Records.getLong(at + CLIENT_ADDRESS_OFFSET);
        final long cl = Records.getLong(at + CLIENT_ADDRESS_OFFSET + 8);
        final long vh = Records.getLong(at + VIP_ADDRESS_OFFSET);
        final long vl = Records.getLong(at + VIP_ADDRESS_OFFSET + 8);
        final long bh = Records.getLong(at + BACKEND_ADDRESS_OFFSET);
        final long bl = Records.getLong(at + BACKEND_ADDRESS_OFFSET + 8);
        final long lh = Records.getLong(at + LOCAL_ADDRESS_OFFSET);
        final long ll = Records.getLong(at + LOCAL_ADDRESS_OFFSET + 8);
        final int clientPort = Records.getUnsignedShort(at + CLIENT_PORT_OFFSET);
        final int vipPort = Records.getUnsignedShort(at + VIP_PORT_OFFSET);
        final int backendPort = Records.getUnsignedShort(at + BACKEND_PORT_OFFSET);
        final int localPort = Records.getUnsignedShort(at + LOCAL_PORT_OFFSET);
        final int proto = Records.getByte(at + SessionLayout.PROTOCOL_OFFSET) & 0xFF;
        final int backendSlot = backend != null ? backend.id : NO_COUNTER_SLOT;
        // Bits only ever added: an entry installed before and not replaced now (its next hop gone) still goes at the end.
        int flags = Records.getUnsignedShort(at + SessionLayout.FLAGS_OFFSET);

        if (writer.hasStagedDeletes())
        {
            // an ended session's entries may have this session's keys (a client port reused): they go first
            writer.commitDeletes();
        }
        final long backendMac = nextHop(bh, bl, backend);
        if (backendMac == NeighbourTable.NO_MAC)
        {
            egressPort = savedEgress;
            return;
        }
        writer.stage(ch, cl, vh, vl, clientPort, vipPort, proto, lh, ll, bh, bl, localPort, backendPort,
            backendMac, portMacs[egressPort], offload.ifindex(egressPort), epoch, NO_COUNTER_SLOT, backendSlot, true);
        int staged = 1;
        final long clientMac = nextHop(ch, cl);
        if (clientMac != NeighbourTable.NO_MAC)
        {
            writer.stage(bh, bl, lh, ll, backendPort, localPort, proto, vh, vl, ch, cl, vipPort, clientPort,
                clientMac, portMacs[egressPort], offload.ifindex(egressPort), epoch, NO_COUNTER_SLOT, backendSlot, false);
            staged++;
        }
        egressPort = savedEgress;
        // both directions in one bpf(2) call; a full map stops it at the first that does not fit
        final int installed = writer.commit();
        if (installed >= 1)
        {
            flags |= SessionLayout.FLAG_OFFLOAD_CLIENT;
        }
        if (installed == 2)
        {
            flags |= SessionLayout.FLAG_OFFLOAD_REPLY;
        }
        if (installed < staged)
        {
            global.increment(GLOBAL_OFFLOAD_FULL);
        }
        Records.putShort(at + SessionLayout.FLAGS_OFFSET, (short)flags);
        Records.putInt(at + SessionLayout.OFFLOAD_EPOCH_OFFSET, epoch);
        countersDirty = true;
    }

    /**
     * Takes the session's entries out of the XDP flow table (its frames come here again, or nowhere): staged, deleted
     * together at the end of the duty cycle, or before the next install (which may reuse a key).
     */
    private void removeOffload(final long at)
    {
        final int flags = Records.getUnsignedShort(at + SessionLayout.FLAGS_OFFSET);
        final int proto = Records.getByte(at + SessionLayout.PROTOCOL_OFFSET) & 0xFF;
        if ((flags & SessionLayout.FLAG_OFFLOAD_CLIENT) != 0)
        {
            offloadWriter.stageDelete(Records.getLong(at + CLIENT_ADDRESS_OFFSET), Records.getLong(at + CLIENT_ADDRESS_OFFSET + 8),
                Records.getLong(at + VIP_ADDRESS_OFFSET), Records.getLong(at + VIP_ADDRESS_OFFSET + 8),
                Records.getUnsignedShort(at + CLIENT_PORT_OFFSET), Records.getUnsignedShort(at + VIP_PORT_OFFSET), proto);
        }
        if ((flags & SessionLayout.FLAG_OFFLOAD_REPLY) != 0)
        {
            offloadWriter.stageDelete(Records.getLong(at + BACKEND_ADDRESS_OFFSET), Records.getLong(at + BACKEND_ADDRESS_OFFSET + 8),
                Records.getLong(at + LOCAL_ADDRESS_OFFSET), Records.getLong(at + LOCAL_ADDRESS_OFFSET + 8),
                Records.getUnsignedShort(at + BACKEND_PORT_OFFSET), Records.getUnsignedShort(at + LOCAL_PORT_OFFSET), proto);
        }
        Records.putShort(at + SessionLayout.FLAGS_OFFSET, (short)(flags & ~SessionLayout.OFFLOAD_FLAGS));
    }

    /**
     * An offloaded session about to be judged by its timer (or by table-full reclaim): its last-seen time becomes the
     * newest of its entries' (the program stamps every frame it forwards, on the same monotonic clock), and a TCP
     * session still embryonic here whose client has sent a frame through the program (its handshake ACK: the program
     * forwards no pure SYN) is established, with the listener's idle timeout.
     */
    @Override
    public void refresh(final int record)
    {
        if (offloadWriter == null)
        {
            return;
        }
        final long at = sessions.address(SessionTable.offset(record));
        final int flags = Records.getUnsignedShort(at + SessionLayout.FLAGS_OFFSET);
        if ((flags & SessionLayout.OFFLOAD_FLAGS) == 0)
        {
            return;
        }
        global.increment(GLOBAL_OFFLOAD_EXPIRY_CHECKS);
        countersDirty = true;
        final int proto = Records.getByte(at + SessionLayout.PROTOCOL_OFFSET) & 0xFF;
        final long clientSeen = (flags & SessionLayout.FLAG_OFFLOAD_CLIENT) == 0 ? -1 : offloadWriter.lastSeen(
            Records.getLong(at + CLIENT_ADDRESS_OFFSET), Records.getLong(at + CLIENT_ADDRESS_OFFSET + 8),
            Records.getLong(at + VIP_ADDRESS_OFFSET), Records.getLong(at + VIP_ADDRESS_OFFSET + 8),
            Records.getUnsignedShort(at + CLIENT_PORT_OFFSET), Records.getUnsignedShort(at + VIP_PORT_OFFSET), proto);
        final long replySeen = (flags & SessionLayout.FLAG_OFFLOAD_REPLY) == 0 ? -1 : offloadWriter.lastSeen(
            Records.getLong(at + BACKEND_ADDRESS_OFFSET), Records.getLong(at + BACKEND_ADDRESS_OFFSET + 8),
            Records.getLong(at + LOCAL_ADDRESS_OFFSET), Records.getLong(at + LOCAL_ADDRESS_OFFSET + 8),
            Records.getUnsignedShort(at + BACKEND_PORT_OFFSET), Records.getUnsignedShort(at + LOCAL_PORT_OFFSET), proto);
        final long seen = Math.max(clientSeen, replySeen);
        if (seen > Records.getLong(at + LAST_SEEN_NS_OFFSET))
        {
            Records.putLong(at + LAST_SEEN_NS_OFFSET, seen);
        }
        final byte state = Records.getByte(at + STATE_OFFSET);
        if (clientSeen > 0 && (state == SessionLayout.STATE_TCP_SYN_SENT || state == SessionLayout.STATE_TCP_SYN_RECEIVED))
        {
            enterState(at, SessionLayout.STATE_TCP_ESTABLISHED,
                idleTimeoutSeconds(tables.listenerById(Records.getUnsignedShort(at + LISTENER_ID_OFFSET))));
        }
    }

    /** A TCP session's new state and its timeout; the generation moves on (the session-sync issue replicates on it). */
    private static void enterState(final long at, final byte state, final int timeoutSeconds)
    {
        Records.putByte(at + STATE_OFFSET, state);
        Records.putShort(at + TIMEOUT_SECONDS_OFFSET, (short)timeoutSeconds);
        Records.putInt(at + GENERATION_OFFSET, Records.getInt(at + GENERATION_OFFSET) + 1);
    }

    /** An established session's idle timeout: its listener's, or the default for one that outlived its listener. */
    private static int idleTimeoutSeconds(final ListenerState listener)
    {
        return listener != null ? listener.idleTimeoutSeconds : io.sluice.fastpath.config.Listener.DEFAULT_IDLE_TIMEOUT_SECONDS;
    }

    private int handOff(final int owner, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        if (outbound[owner].write(HANDOFF_MSG_TYPE, buffer, offset, length))
        {
            handedTo |= 1L << owner;
            return drop(Verdict.HANDOFF);
        }
        return drop(Verdict.DROP_HANDOFF_FULL);
    }

    /**
     * Wakes the owners this cycle handed frames to, once each (a full fence and a load for an awake owner, an eventfd
     * write for a sleeping one) rather than once per frame; an awake owner reads its rings every cycle anyway.
     */
    private void ringDoorbells()
    {
        long owners = handedTo;
        handedTo = 0;
        while (owners != 0)
        {
            final int owner = Long.numberOfTrailingZeros(owners);
            owners &= owners - 1;
            if (wakeups[owner].wake())
            {
                global.increment(GLOBAL_HANDOFF_WAKEUPS);
            }
        }
    }

    private void onHandedOff(final int msgTypeId, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final int result = process(buffer, offset, length, true);
        if (result >= 0 && !ports[egressPort].send(buffer, offset, result))
        {
            drop(Verdict.DROP_TX_FULL);
        }
    }

    /** The next hop's MAC, or NO_MAC; sets egressPort to the slot of the interface it sits on. */
    private long nextHop(final long high, final long low)
    {
        return nextHop(high, low, null);
    }

    /**
     * {@link #nextHop(long, long)}, the table's answer cached on {@code backend} (when it is that address's) while the
     * neighbour table's generation stands: a probe of the shared neighbour snapshot fewer per frame to a backend.
     */
    private long nextHop(final long high, final long low, final BackendState backend)
    {
        final long hop;
        if (backend != null && backend.addressLow == low && backend.addressHigh == high)
        {
            final Object generation = neighbours.generation();
            if (generation != null && generation == backend.nextHopGeneration)
            {
                hop = backend.nextHop;
            }
            else
            {
                hop = neighbours.nextHopMac(high, low);
                backend.nextHop = hop;
                backend.nextHopGeneration = generation;
            }
        }
        else
        {
            hop = neighbours.nextHopMac(high, low);
        }
        if (hop == NeighbourTable.NO_MAC)
        {
            return NeighbourTable.NO_MAC;
        }
        final int slot = NeighbourTable.interfaceOf(hop);
        if (slot >= ports.length)
        {
            return NeighbourTable.NO_MAC;
        }
        egressPort = slot;
        return NeighbourTable.macOf(hop);
    }

    private int noNeighbour(final long high, final long low)
    {
        neighbours.requestResolution(high, low);
        global.increment(GLOBAL_NEIGHBOUR_REQUESTS);
        // The frame is still untouched here (rewrites come after the next hop): hold a copy until the MAC is known.
        if (neighbourQueue.offer(high, low, frameBuffer, frameOffset, frameLength, nowNs))
        {
            countersDirty = true;
            lastVerdict = Verdict.NEIGHBOUR_QUEUED;
            return PacketPort.CONSUMED;
        }
        return drop(Verdict.DROP_NO_NEIGHBOUR);
    }

    private int drop(final Verdict verdict)
    {
        global.increment(verdict.counter().slot());
        countersDirty = true;
        lastVerdict = verdict;
        return PacketPort.CONSUMED;
    }

    private void flushCounters()
    {
        final ListenerTable t = tables;
        for (final ListenerState l : t.listeners())
        {
            for (final BackendState b : l.backends)
            {
                BackendTraffic.publish(l, b, global);
                b.counters.flush();
            }
            l.counters.flush();
            l.bandwidth.flush();
        }
        global.flush();
        countersDirty = false;
        lastFlushNs = nowNs;
    }
}
