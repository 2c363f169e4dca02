package io.sluice.keyserver.server;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.keyserver.KeyServerCounter;
import io.sluice.keyserver.ipc.ChainCodec;
import io.sluice.keyserver.ipc.KeyServerDescriptor;
import io.sluice.keyserver.ipc.Operation;
import io.sluice.keyserver.ipc.RequestFlyweight;
import io.sluice.keyserver.ipc.ResponseFlyweight;
import io.sluice.keyserver.ipc.ShmSignal;
import io.sluice.keyserver.ipc.Status;
import io.sluice.keyserver.ipc.TicketKeysCodec;
import io.sluice.nativeio.crypto.KeyType;
import io.sluice.nativeio.crypto.RsaPadding;
import io.sluice.nativeio.crypto.SignatureScheme;

/**
 * The request ring's consumer, shared by the crypto workers (leader/follower): an idle worker takes the reader role,
 * validates requests at the boundary (bad ones get an error reply and a counter), answers cheap lookups itself, and
 * stops at the first private-key operation, which it takes for itself: it gives the reader role up before the crypto
 * starts, so the next idle worker reads on. This replaces a poller thread that queued each operation for a worker:
 * one thread hand-off per request fewer, which on an oversubscribed 2-core machine is a scheduler round fewer. Crypto
 * never runs while the ring is held. Whoever holds the reader role also does the duty once per heartbeat interval:
 * stamps the server heartbeat, reclaims the slots of dead clients and unblocks a request ring stuck behind a client
 * that died between claim and commit (as Aeron's driver does for its to-driver ring; only the consumer may do that).
 */
final class RequestReader
{
    private static final int READ_LIMIT = 64;
    /**
     * Refuse key operations (OVERLOADED) while more than this many request bytes wait behind the one being read:
     * ~1024 handshake signatures (≈ 250 B a record), at ~25 µs per ECDSA and ~270 µs per RSA-2048 signature per core
     * well over 100 ms of backlog on two cores; beyond that a handshake is better refused than queued.
     */
    static final int OVERLOAD_BACKLOG_BYTES = 256 * 1024;
    /** Slot owner value while a reclaim waits for in-flight operations; clients only claim slots that read 0. */
    private static final long RECLAIMING = -1;

    private final KeyServerConfiguration config;
    private final KeyServerDescriptor.Layout layout;
    private final UnsafeBuffer file;
    private final ManyToOneRingBuffer requests;
    private final ManyToOneRingBuffer[] responses;
    /** Clients signal it after each request; idle workers sleep on it ({@link #awaitRequests}). */
    private final ShmSignal requestSignal;
    /** One per slot: signalled after each reply so the client's poller, asleep in its own process, wakes. */
    private final ShmSignal[] responseSignals;
    private final AtomicIntegerArray inFlight;
    private final KeyRegistry registry;
    /** Replaced by the rescan thread when the ticket secret file changes. */
    private volatile TicketKeyDeriver tickets;
    private final EpochClock clock;
    /** Held by the one worker reading the ring; everything below it is touched only by that worker. */
    private final AtomicBoolean reading = new AtomicBoolean();
    private final ControlledMessageHandler handler = this::onRequest;
    private final RequestFlyweight request = new RequestFlyweight();
    private final ResponseFlyweight response = new ResponseFlyweight();
    /** The reading worker's own task, filled by the first key operation read (then the read stops). */
    private CryptoTask claimTarget;

    private final AtomicCounter requestCount;
    private final AtomicCounter signOps;
    private final AtomicCounter decryptOps;
    private final AtomicCounter chainOps;
    private final AtomicCounter ticketOps;
    private final AtomicCounter unknownKey;
    private final AtomicCounter badLength;
    private final AtomicCounter badOperation;
    private final AtomicCounter unsupportedScheme;
    private final AtomicCounter cryptoFailed;
    private final AtomicCounter unknownName;
    private final AtomicCounter badSlot;
    private final AtomicCounter responseRingFull;
    private final AtomicCounter unblocked;
    private final AtomicCounter reclaimed;
    private final AtomicCounter connected;
    private final AtomicCounter workerQueueFull;

    /** Written under the reader role, read before taking it as a hint (a stale read only delays the duty a round). */
    private volatile long nextDutyMs;
    private long lastConsumerPosition;
    private long lastConsumerChangeMs;

    RequestReader(final KeyServerConfiguration config, final UnsafeBuffer file, final KeyRegistry registry,
        final TicketKeyDeriver tickets, final CountersManager counters, final EpochClock clock)
    {
        this.config = config;
        this.layout = config.layout();
        this.file = file;
        this.registry = registry;
        this.tickets = tickets;
        this.clock = clock;
        this.requests = new ManyToOneRingBuffer(layout.requestRing(file));
        this.responses = new ManyToOneRingBuffer[layout.maxClients()];
        for (int i = 0; i < responses.length; i++)
        {
            responses[i] = new ManyToOneRingBuffer(layout.responseRing(file, i));
        }
        this.requestSignal = layout.requestSignal(file);
        this.responseSignals = new ShmSignal[layout.maxClients()];
        for (int i = 0; i < responseSignals.length; i++)
        {
            responseSignals[i] = layout.responseSignal(file, i);
        }
        this.inFlight = new AtomicIntegerArray(layout.maxClients());
        requestCount = KeyServerCounter.REQUESTS.allocate(counters);
        signOps = KeyServerCounter.SIGN_OPS.allocate(counters);
        decryptOps = KeyServerCounter.DECRYPT_OPS.allocate(counters);
        chainOps = KeyServerCounter.GET_CHAIN_OPS.allocate(counters);
        ticketOps = KeyServerCounter.TICKET_KEY_OPS.allocate(counters);
        unknownKey = KeyServerCounter.ERR_UNKNOWN_KEY.allocate(counters);
        badLength = KeyServerCounter.ERR_BAD_LENGTH.allocate(counters);
        badOperation = KeyServerCounter.ERR_BAD_OPERATION.allocate(counters);
        unsupportedScheme = KeyServerCounter.ERR_UNSUPPORTED_SCHEME.allocate(counters);
        cryptoFailed = KeyServerCounter.ERR_CRYPTO_FAILED.allocate(counters);
        unknownName = KeyServerCounter.ERR_UNKNOWN_NAME.allocate(counters);
        badSlot = KeyServerCounter.ERR_BAD_CLIENT_SLOT.allocate(counters);
        responseRingFull = KeyServerCounter.RESPONSE_RING_FULL.allocate(counters);
        unblocked = KeyServerCounter.REQUEST_RING_UNBLOCKED.allocate(counters);
        reclaimed = KeyServerCounter.CLIENTS_RECLAIMED.allocate(counters);
        connected = KeyServerCounter.CLIENTS_CONNECTED.allocate(counters);
        workerQueueFull = KeyServerCounter.WORKER_QUEUE_FULL.allocate(counters);
    }

    /**
     * Read the ring if no other worker is reading it, up to and including the first private-key operation, which is
     * copied into {@code own} (then {@code own.entry != null}) for the caller to run after this returns.
     *
     * @param own the calling worker's task (empty).
     * @return requests read plus duty work; 0 when another worker holds the reader role or the ring is empty.
     */
    int poll(final CryptoTask own)
    {
        // look before taking the reader role: an idle worker that held it while it polled an empty ring could be
        // preempted holding it (2 oversubscribed cores), and then nobody reads until it runs again
        final long nowMs = clock.time();
        if ((requests.size() == 0 && nowMs < nextDutyMs) || reading.get() || !reading.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            claimTarget = own;
            int work = 0;
            if (nowMs >= nextDutyMs)
            {
                nextDutyMs = nowMs + config.heartbeatIntervalMs();
                work += duty(nowMs);
            }
            work += requests.controlledRead(handler, READ_LIMIT);
            return work;
        }
        finally
        {
            claimTarget = null;
            reading.set(false);
            // leader/follower hand-over: records left behind (this worker stopped at a key operation, or more came) go to
            // a sleeping worker now, not when its wait times out. A worker that found the ring non-empty but the role
            // held may have gone to sleep; it announced itself before looking at the role, so either it sees the role
            // free (and does not sleep) or this signal sees it announced (ShmSignal)
            if (requests.size() > 0)
            {
                requestSignal.signal();
            }
        }
    }

    /** Wake a sleeping worker when records wait in the ring (leader/follower hand-over, see {@link #poll}). */
    void handOver()
    {
        if (requests.size() > 0)
        {
            requestSignal.signal();
        }
    }

    /** @return true when records wait in the request ring and no worker is reading it: an idle worker should poll. */
    boolean hasUnreadRequests()
    {
        return requests.size() > 0 && !reading.get();
    }

    /** @return the request ring's signal, for the workers' idle strategies. */
    ShmSignal requestSignal()
    {
        return requestSignal;
    }

    private int duty(final long nowMs)
    {
        file.putLongRelease(KeyServerDescriptor.SERVER_HEARTBEAT_OFFSET, nowMs);
        checkBlockedRequestRing(nowMs);
        int clients = 0;
        for (int slot = 0; slot < layout.maxClients(); slot++)
        {
            final int slotOffset = layout.slotOffset(slot);
            final long owner = file.getLongVolatile(slotOffset + KeyServerDescriptor.SLOT_OWNER_OFFSET);
            if (owner == 0)
            {
                continue;
            }
            if (owner == RECLAIMING)
            {
                finishReclaim(slot, slotOffset);
                continue;
            }
            clients++;
            final long heartbeat = file.getLongVolatile(slotOffset + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET);
            final long pid = file.getLong(slotOffset + KeyServerDescriptor.SLOT_PID_OFFSET);
            final boolean silent = nowMs - heartbeat > config.clientTimeoutMs();
            // a pid check catches a SIGKILLed client at once; heartbeat silence catches one in another pid namespace
            final boolean gone = pid > 0 && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)
                && nowMs - heartbeat > config.heartbeatIntervalMs() * 3;
            if (silent || gone)
            {
                if (file.compareAndSetLong(slotOffset + KeyServerDescriptor.SLOT_OWNER_OFFSET, owner, RECLAIMING))
                {
                    clients--;
                    finishReclaim(slot, slotOffset);
                }
            }
        }
        connected.set(clients);
        return 0;
    }

    private void finishReclaim(final int slot, final int slotOffset)
    {
        if (inFlight.get(slot) != 0)
        {
            return;
        }
        final UnsafeBuffer ring = layout.responseRing(file, slot);
        ring.setMemory(0, ring.capacity(), (byte)0);
        // a client that died asleep left its sleepers count raised: the next client would pay a wake syscall per reply
        responseSignals[slot].reset();
        file.putLong(slotOffset + KeyServerDescriptor.SLOT_PID_OFFSET, 0);
        file.putLong(slotOffset + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET, 0);
        file.putLongRelease(slotOffset + KeyServerDescriptor.SLOT_OWNER_OFFSET, 0);
        reclaimed.increment();
    }

    private void checkBlockedRequestRing(final long nowMs)
    {
        final long consumer = requests.consumerPosition();
        final long producer = requests.producerPosition();
        if (consumer != lastConsumerPosition || producer == consumer)
        {
            lastConsumerPosition = consumer;
            lastConsumerChangeMs = nowMs;
        }
        else if (nowMs - lastConsumerChangeMs > config.unblockTimeoutMs())
        {
            if (requests.unblock())
            {
                unblocked.increment();
            }
            lastConsumerChangeMs = nowMs;
        }
    }

    private ControlledMessageHandler.Action onRequest(final int msgTypeId, final MutableDirectBuffer buffer, final int index,
        final int length)
    {
        requestCount.increment();
        if (length < RequestFlyweight.HEADER_LENGTH)
        {
            // too short to even say who sent it: nobody to answer
            badLength.increment();
            return ControlledMessageHandler.Action.CONTINUE;
        }
        request.wrap(buffer, index);
        final int slot = request.clientSlot();
        final long token = request.slotToken();
        if (slot < 0 || slot >= layout.maxClients()
            || file.getLongVolatile(layout.slotOffset(slot) + KeyServerDescriptor.SLOT_OWNER_OFFSET) != token)
        {
            badSlot.increment();
            return ControlledMessageHandler.Action.CONTINUE;
        }
        final long correlationId = request.correlationId();
        final int payloadLength = request.payloadLength();
        if (payloadLength < 0 || payloadLength != length - RequestFlyweight.HEADER_LENGTH || payloadLength > layout.maxPayloadLength())
        {
            badLength.increment();
            respond(slot, token, correlationId, Status.BAD_LENGTH, null);
            return ControlledMessageHandler.Action.CONTINUE;
        }
        switch (msgTypeId)
        {
            case Operation.SIGN, Operation.DECRYPT ->
            {
                if (onKeyOperation(msgTypeId, buffer, slot, token, correlationId, payloadLength))
                {
                    // this worker now has its operation: let the next idle worker read on while it signs
                    return ControlledMessageHandler.Action.BREAK;
                }
            }
            case Operation.GET_CHAIN -> onGetChain(buffer, slot, token, correlationId, payloadLength);
            case Operation.TICKET_KEYS ->
            {
                ticketOps.increment();
                final long now = clock.time();
                final TicketKeyDeriver t = tickets;
                respond(slot, token, correlationId, Status.OK,
                    TicketKeysCodec.encode(t.periodMs(), t.msUntilNextRotation(now), t.keysAt(now)));
            }
            case Operation.PING ->
            {
                final byte[] echo = new byte[payloadLength];
                buffer.getBytes(request.payloadOffset(), echo);
                respond(slot, token, correlationId, Status.OK, echo);
            }
            default ->
            {
                badOperation.increment();
                respond(slot, token, correlationId, Status.BAD_OPERATION, null);
            }
        }
        return ControlledMessageHandler.Action.CONTINUE;
    }

    /** @return true when the operation was claimed into the reading worker's task. */
    private boolean onKeyOperation(final int op, final DirectBuffer buffer, final int slot, final long token, final long correlationId,
        final int payloadLength)
    {
        final KeyRegistry.Loaded entry = registry.byKeyId(buffer, request.offset() + RequestFlyweight.KEY_ID_OFFSET);
        if (entry == null || entry.key() == null)
        {
            unknownKey.increment();
            respond(slot, token, correlationId, Status.UNKNOWN_KEY, null);
            return false;
        }
        final int param = request.param();
        final boolean supported;
        if (op == Operation.SIGN)
        {
            final SignatureScheme scheme = SignatureScheme.fromCode(param);
            supported = scheme != null && scheme.keyType() == entry.key().type();
        }
        else
        {
            supported = entry.key().type() == KeyType.RSA && param >= 0 && param < RsaPadding.values().length;
        }
        if (!supported)
        {
            unsupportedScheme.increment();
            respond(slot, token, correlationId, Status.UNSUPPORTED_SCHEME, null);
            return false;
        }
        if (requests.size() > OVERLOAD_BACKLOG_BYTES)
        {
            // the workers are saturated and the backlog is long: drain it with refusals until it is short again
            workerQueueFull.increment();
            respond(slot, token, correlationId, Status.OVERLOADED, null);
            return false;
        }
        final CryptoTask task = claimTarget;
        buffer.getBytes(request.payloadOffset(), task.payload, 0, payloadLength);
        task.payloadLength = payloadLength;
        task.slot = slot;
        task.slotToken = token;
        task.correlationId = correlationId;
        task.operation = op;
        task.param = param;
        task.entry = entry;
        inFlight.incrementAndGet(slot);
        return true;
    }

    private void onGetChain(final DirectBuffer buffer, final int slot, final long token, final long correlationId,
        final int payloadLength)
    {
        chainOps.increment();
        final String name = buffer.getStringWithoutLengthUtf8(request.payloadOffset(), payloadLength);
        final KeyRegistry.Loaded entry = registry.byName(name);
        if (entry == null)
        {
            unknownName.increment();
            respond(slot, token, correlationId, Status.UNKNOWN_NAME, name.getBytes(StandardCharsets.UTF_8));
            return;
        }
        respond(slot, token, correlationId, Status.OK, ChainCodec.encode(entry.kind().code(), entry.keyId(), entry.chainDer()));
    }

    void tickets(final TicketKeyDeriver tickets)
    {
        this.tickets = tickets;
    }

    void countSign()
    {
        signOps.increment();
    }

    void countDecrypt()
    {
        decryptOps.increment();
    }

    void countCryptoFailure()
    {
        cryptoFailed.increment();
    }

    /**
     * A worker's reply; also ends the task's in-flight mark so a pending reclaim of the slot may finish.
     */
    void respondFromWorker(final CryptoTask task, final int status, final byte[] payload, final ResponseFlyweight flyweight)
    {
        final int slot = task.slot;
        try
        {
            respond(slot, task.slotToken, task.correlationId, status, payload, flyweight);
        }
        finally
        {
            task.clear();
            inFlight.decrementAndGet(slot);
        }
    }

    private void respond(final int slot, final long token, final long correlationId, final int status, final byte[] payload)
    {
        respond(slot, token, correlationId, status, payload, response);
    }

    /** Write a reply into the slot's response ring (many producers: the poller and every worker). */
    private void respond(final int slot, final long token, final long correlationId, final int status, final byte[] payload,
        final ResponseFlyweight flyweight)
    {
        if (file.getLongVolatile(layout.slotOffset(slot) + KeyServerDescriptor.SLOT_OWNER_OFFSET) != token)
        {
            return;
        }
        final RingBuffer ring = responses[slot];
        final boolean fits = payload == null || ResponseFlyweight.HEADER_LENGTH + payload.length <= ring.maxMsgLength();
        final int payloadLength = payload == null || !fits ? 0 : payload.length;
        final int index = ring.tryClaim(ResponseFlyweight.MSG_TYPE_ID, ResponseFlyweight.HEADER_LENGTH + payloadLength);
        if (index <= 0)
        {
            responseRingFull.increment();
            return;
        }
        final MutableDirectBuffer buf = ring.buffer();
        flyweight.wrap(buf, index).correlationId(correlationId).status(fits ? status : Status.BAD_LENGTH).payloadLength(payloadLength);
        if (payloadLength > 0)
        {
            buf.putBytes(flyweight.payloadOffset(), payload);
        }
        ring.commit(index);
        responseSignals[slot].signal();
    }
}
