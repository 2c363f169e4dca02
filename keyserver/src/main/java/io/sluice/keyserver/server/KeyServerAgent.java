package io.sluice.keyserver.server;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
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
import io.sluice.keyserver.ipc.Status;
import io.sluice.keyserver.ipc.TicketKeysCodec;
import io.sluice.nativeio.crypto.KeyType;
import io.sluice.nativeio.crypto.RsaPadding;
import io.sluice.nativeio.crypto.SignatureScheme;

/**
 * The IPC poller: drains the request ring, validates each request at the boundary (bad ones get an error reply and a
 * counter), hands private-key work to the workers and answers cheap lookups itself. Once per heartbeat interval it
 * stamps the server heartbeat, reclaims the slots of dead clients and unblocks a request ring stuck behind a client
 * that died between claim and commit (as Aeron's driver does for its to-driver ring).
 */
final class KeyServerAgent implements Agent
{
    private static final int READ_LIMIT = 64;
    /** Slot owner value while a reclaim waits for in-flight operations; clients only claim slots that read 0. */
    private static final long RECLAIMING = -1;

    private final KeyServerConfiguration config;
    private final KeyServerDescriptor.Layout layout;
    private final UnsafeBuffer file;
    private final ManyToOneRingBuffer requests;
    private final ManyToOneRingBuffer[] responses;
    private final AtomicIntegerArray inFlight;
    private final KeyRegistry registry;
    /** Replaced by the rescan thread when the ticket secret file changes. */
    private volatile TicketKeyDeriver tickets;
    private final ManyToManyConcurrentArrayQueue<CryptoTask> tasks;
    private final ManyToManyConcurrentArrayQueue<CryptoTask> freeTasks;
    private final EpochClock clock;
    private final RequestFlyweight request = new RequestFlyweight();
    private final ResponseFlyweight response = new ResponseFlyweight();

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

    private long nextDutyMs;
    private long lastConsumerPosition;
    private long lastConsumerChangeMs;

    KeyServerAgent(final KeyServerConfiguration config, final UnsafeBuffer file, final KeyRegistry registry,
        final TicketKeyDeriver tickets, final ManyToManyConcurrentArrayQueue<CryptoTask> tasks,
        final ManyToManyConcurrentArrayQueue<CryptoTask> freeTasks, final CountersManager counters, final EpochClock clock)
    {
        this.freeTasks = freeTasks;
        this.config = config;
        this.layout = config.layout();
        this.file = file;
        this.registry = registry;
        this.tickets = tickets;
        this.tasks = tasks;
        this.clock = clock;
        this.requests = new ManyToOneRingBuffer(layout.requestRing(file));
        this.responses = new ManyToOneRingBuffer[layout.maxClients()];
        for (int i = 0; i < responses.length; i++)
        {
            responses[i] = new ManyToOneRingBuffer(layout.responseRing(file, i));
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

    @Override
    public int doWork()
    {
        final long nowMs = clock.time();
        int work = 0;
        if (nowMs >= nextDutyMs)
        {
            nextDutyMs = nowMs + config.heartbeatIntervalMs();
            work += duty(nowMs);
        }
        work += requests.read(this::onRequest, READ_LIMIT);
        return work;
    }

    @Override
    public String roleName()
    {
        return "keyserver-poller";
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

    private void onRequest(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        requestCount.increment();
        if (length < RequestFlyweight.HEADER_LENGTH)
        {
            // too short to even say who sent it: nobody to answer
            badLength.increment();
            return;
        }
        request.wrap(buffer, index);
        final int slot = request.clientSlot();
        final long token = request.slotToken();
        if (slot < 0 || slot >= layout.maxClients()
            || file.getLongVolatile(layout.slotOffset(slot) + KeyServerDescriptor.SLOT_OWNER_OFFSET) != token)
        {
            badSlot.increment();
            return;
        }
        final long correlationId = request.correlationId();
        final int payloadLength = request.payloadLength();
        if (payloadLength < 0 || payloadLength != length - RequestFlyweight.HEADER_LENGTH || payloadLength > layout.maxPayloadLength())
        {
            badLength.increment();
            respond(slot, token, correlationId, Status.BAD_LENGTH, null);
            return;
        }
        switch (msgTypeId)
        {
            case Operation.SIGN, Operation.DECRYPT -> onKeyOperation(msgTypeId, buffer, slot, token, correlationId, payloadLength);
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
    }

    private void onKeyOperation(final int op, final DirectBuffer buffer, final int slot, final long token, final long correlationId,
        final int payloadLength)
    {
        final KeyRegistry.Loaded entry = registry.byKeyId(buffer, request.offset() + RequestFlyweight.KEY_ID_OFFSET);
        if (entry == null || entry.key() == null)
        {
            unknownKey.increment();
            respond(slot, token, correlationId, Status.UNKNOWN_KEY, null);
            return;
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
            return;
        }
        final CryptoTask task = freeTasks.poll();
        if (task == null)
        {
            // every pooled task is queued or running: the workers are saturated
            workerQueueFull.increment();
            respond(slot, token, correlationId, Status.OVERLOADED, null);
            return;
        }
        buffer.getBytes(request.payloadOffset(), task.payload, 0, payloadLength);
        task.payloadLength = payloadLength;
        task.slot = slot;
        task.slotToken = token;
        task.correlationId = correlationId;
        task.operation = op;
        task.param = param;
        task.entry = entry;
        inFlight.incrementAndGet(slot);
        // cannot fail: the queue holds as many tasks as the pool
        tasks.offer(task);
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
            freeTasks.offer(task);
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
    }
}
