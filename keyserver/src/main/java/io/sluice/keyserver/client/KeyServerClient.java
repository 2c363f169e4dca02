package io.sluice.keyserver.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.agrona.IoUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.keyserver.KeyServerCounter;
import io.sluice.keyserver.ipc.ChainCodec;
import io.sluice.keyserver.ipc.Futex;
import io.sluice.keyserver.ipc.KeyServerDescriptor;
import io.sluice.keyserver.ipc.LostSliceGuard;
import io.sluice.keyserver.ipc.Operation;
import io.sluice.keyserver.ipc.RequestFlyweight;
import io.sluice.keyserver.ipc.ResponseFlyweight;
import io.sluice.keyserver.ipc.ShmSignal;
import io.sluice.keyserver.ipc.SignalIdleStrategy;
import io.sluice.keyserver.ipc.Status;
import io.sluice.keyserver.ipc.TicketKeysCodec;
import io.sluice.nativeio.crypto.RsaPadding;

/**
 * The proxy's side of the key server IPC. Any thread may call {@link #sign}, {@link #decrypt}, {@link #getChain} and
 * {@link #ticketKeys}; each writes one record into the shared request ring and returns a future. One poller agent drains
 * this client's response ring, completes the futures, heartbeats, and watches the server's heartbeat: when it stops for
 * {@code serverTimeoutMs} every pending operation fails at once ({@link Status#SERVER_DOWN}) and the client reconnects
 * by itself as soon as a key server publishes a fresh file at the same path.
 * <p>
 * Latency: the key server and the poller are in different processes, so neither can unpark the other. Both sides sleep
 * on futex words in the shared file instead ({@link ShmSignal}): a caller signals the request ring after its commit
 * (waking a sleeping crypto worker), a worker signals this client's response ring after its reply (waking the poller).
 * The signal costs a syscall only when the other side announced it is asleep. The poller sleeps at most half its
 * heartbeat period, so its duty (heartbeats, server check, timeouts) runs on time.
 * <p>
 * A thread that blocks on a returned future ({@code get}, {@code join}; not the futures {@code thenApply} and the like
 * derive) reads the response ring itself for up to the spin budget before it parks: its reply is then taken by the
 * thread that waits for it, with no hand-off through the poller and no wake-up on either side (the response ring has
 * one reader at a time, whoever holds {@link #readingResponses}; while a caller polls, it takes itself out of the
 * signal's sleeper count so the worker does not wake the sleeping poller for a reply the caller reads, see
 * {@link ShmSignal#beginPolling}). After such a caller's yield lost the core for longer than its budget (a contended
 * core), blocked callers park at once for a while ({@link LostSliceGuard}). Asynchronous callers (BoringSSL's
 * private-key method) are completed by whichever thread reads their reply: usually the poller, or a blocked caller
 * that holds the reader role while it polls for its own (their dependent stages then run on that caller's thread).
 * <p>
 * Mappings: each key server run is one mapping of its file. Callers register in {@link Connection#users} while they
 * write into it; after a disconnect the poller unmaps the old mapping once no caller is left inside (a caller that
 * registers after the disconnect sees the connection changed and does not touch it), so reconnects do not pile up
 * mappings waiting for the GC.
 */
public final class KeyServerClient implements AutoCloseable
{
    private static final Logger LOG = System.getLogger(KeyServerClient.class.getName());

    /**
     * @param shmDir the key server's --shm directory.
     * @param serverTimeoutMs server heartbeat silence that counts as dead (100..10000; default 500, well inside 1 s).
     * @param heartbeatIntervalMs how often this client heartbeats and checks the server (10..1000).
     * @param reconnectIntervalMs how often to retry while disconnected (10..10000).
     * @param operationTimeoutMs an operation without reply for this long fails (100..60000).
     */
    public record Configuration(Path shmDir, long serverTimeoutMs, long heartbeatIntervalMs, long reconnectIntervalMs,
        long operationTimeoutMs)
    {
        public Configuration
        {
            check("serverTimeoutMs", serverTimeoutMs, 100, 10_000);
            check("heartbeatIntervalMs", heartbeatIntervalMs, 10, 1000);
            check("reconnectIntervalMs", reconnectIntervalMs, 10, 10_000);
            check("operationTimeoutMs", operationTimeoutMs, 100, 60_000);
        }

        public static Configuration defaults(final Path shmDir)
        {
            return new Configuration(shmDir, 500, 50, 100, 2000);
        }

        private static void check(final String field, final long value, final long min, final long max)
        {
            if (value < min || value > max)
            {
                throw new IllegalArgumentException(field + ": " + value + " is not in " + min + ".." + max);
            }
        }
    }

    private record Pending(CompletableFuture<byte[]> future, long deadlineMs)
    {
    }

    /**
     * One mapping of one key server run; replaced on reconnect and unmapped once retired and {@code users} reads 0
     * (callers increment it before they check the connection is still current, the poller checks it after it made the
     * connection stale: one of the two always sees the other).
     */
    private record Connection(UnsafeBuffer file, MappedByteBuffer mapped, KeyServerDescriptor.Layout layout, int slot, long token,
        long instanceId, ManyToOneRingBuffer requests, ManyToOneRingBuffer responses, ShmSignal requestSignal,
        ShmSignal responseSignal, AtomicInteger users)
    {
        int slotOffset()
        {
            return layout.slotOffset(slot);
        }
    }

    private final Configuration config;
    private final EpochClock clock = SystemEpochClock.INSTANCE;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong correlationIds = new AtomicLong(new SecureRandom().nextInt() & 0xffffffL);
    private final AgentRunner runner;
    /** Connections made stale by a disconnect, not yet unmapped (poller thread only; close() after the poller stopped). */
    private final List<Connection> retired = new ArrayList<>();
    private volatile Connection connection;
    private volatile String status = "not connected yet";

    private final AtomicCounter requests;
    private final AtomicCounter serverDownErrors;
    private final AtomicCounter serverDeaths;
    private final AtomicCounter reconnects;
    private final AtomicCounter errorResponses;
    private final AtomicCounter ringFull;
    private final AtomicCounter timeouts;

    /** Held by the one thread reading the response ring (the poller or a caller waiting for its reply). */
    private final AtomicBoolean readingResponses = new AtomicBoolean();
    /** The thread holding {@link #readingResponses}, or null. */
    private volatile Thread responseReader;
    private final ResponseFlyweight response = new ResponseFlyweight();
    private final MessageHandler responseHandler = this::onResponse;
    /**
     * After a blocked caller's yield lost the core for longer than its whole spin budget, blocked callers park at once
     * (the poller completes them) for a while: each caller loses at most one such slice per period.
     */
    private final LostSliceGuard pollGuard = new LostSliceGuard();
    /** How long a caller blocked on a future polls the response ring itself before it parks. */
    private final long spinNs;

    private KeyServerClient(final Configuration config, final CountersManager counters, final IdleStrategy idle, final long spinNs)
    {
        if (spinNs < 0 || spinNs > SignalIdleStrategy.MAX_SPIN_NS)
        {
            throw new IllegalArgumentException("spinNs: " + spinNs + " is not in 0.." + SignalIdleStrategy.MAX_SPIN_NS);
        }
        this.config = config;
        this.spinNs = spinNs;
        requests = KeyServerCounter.CLIENT_REQUESTS.allocate(counters);
        serverDownErrors = KeyServerCounter.CLIENT_SERVER_DOWN_ERRORS.allocate(counters);
        serverDeaths = KeyServerCounter.CLIENT_SERVER_DEATHS.allocate(counters);
        reconnects = KeyServerCounter.CLIENT_RECONNECTS.allocate(counters);
        errorResponses = KeyServerCounter.CLIENT_ERROR_RESPONSES.allocate(counters);
        ringFull = KeyServerCounter.CLIENT_RING_FULL.allocate(counters);
        timeouts = KeyServerCounter.CLIENT_TIMEOUTS.allocate(counters);
        // the poller sleeps on its response ring's futex word until a worker replies, at most half its duty period (the
        // duty: heartbeats, server check, timeouts, reconnects); only the poller thread connects and disconnects, so
        // both lambdas see the same connection
        final IdleStrategy pollerIdle = new SignalIdleStrategy(idle,
            () ->
            {
                final Connection c = connection;
                return c == null ? null : c.responseSignal();
            },
            () ->
            {
                final Connection c = connection;
                return c == null || c.responses().size() > 0;
            },
            TimeUnit.MILLISECONDS.toNanos(Math.min(config.heartbeatIntervalMs(), config.reconnectIntervalMs())) / 2, spinNs);
        runner = new AgentRunner(pollerIdle, t -> LOG.log(Level.ERROR, "key server client poller error", t), null, new Poller());
    }

    /**
     * Start a client; it connects in the background (and tries once right away).
     *
     * @param config configuration.
     * @param counters where the client's counters go.
     * @return the client.
     */
    public static KeyServerClient start(final Configuration config, final CountersManager counters)
    {
        return start(config, counters, defaultIdleStrategy());
    }

    /** @return the poller's backoff while replies are visible but another thread reads them. */
    public static IdleStrategy defaultIdleStrategy()
    {
        return new BackoffIdleStrategy(100, 100, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
    }

    /**
     * Start a client whose poller idles as given (the node passes its perf profile's strategy).
     *
     * @param config configuration.
     * @param counters where the client's counters go.
     * @param idle the poller's idle strategy.
     * @return the client.
     */
    public static KeyServerClient start(final Configuration config, final CountersManager counters, final IdleStrategy idle)
    {
        return start(config, counters, idle, SignalIdleStrategy.DEFAULT_SPIN_NS);
    }

    /**
     * Start a client with a spin budget: after replies the poller keeps polling (yielding between polls) this long
     * before it sleeps, and a thread blocked on a returned future reads its reply itself for this long before it parks.
     *
     * @param config configuration.
     * @param counters where the client's counters go.
     * @param idle the poller's idle strategy (busy-spin and yielding never sleep).
     * @param spinNs the budget in nanoseconds (0..{@link SignalIdleStrategy#MAX_SPIN_NS}).
     * @return the client.
     */
    public static KeyServerClient start(final Configuration config, final CountersManager counters, final IdleStrategy idle,
        final long spinNs)
    {
        // on the starting thread, not on the first caller (an event loop) or the poller's first sleep
        Futex.warmUp();
        final KeyServerClient client = new KeyServerClient(config, counters, idle, spinNs);
        client.tryConnect(client.clock.time());
        AgentRunner.startOnThread(client.runner);
        return client;
    }

    public boolean isConnected()
    {
        return connection != null;
    }

    /**
     * @return "connected (slot N)" or why not, for a node's health output.
     */
    public String status()
    {
        return status;
    }

    /**
     * @param keyId SHA-256 of the leaf certificate.
     * @param signatureScheme TLS SignatureScheme code point.
     * @param message the whole message (the key server hashes it).
     * @return the signature.
     */
    public CompletableFuture<byte[]> sign(final byte[] keyId, final int signatureScheme, final byte[] message)
    {
        return submit(Operation.SIGN, signatureScheme, keyId, message);
    }

    /**
     * @param keyId SHA-256 of the leaf certificate (an RSA key).
     * @param ciphertext RSA ciphertext.
     * @return the raw (unpadded) RSA plaintext, as BoringSSL expects.
     */
    public CompletableFuture<byte[]> decrypt(final byte[] keyId, final byte[] ciphertext)
    {
        return submit(Operation.DECRYPT, RsaPadding.NONE.ordinal(), keyId, ciphertext);
    }

    /**
     * @param name certificate (or CA) name as imported.
     * @return its chain and key id.
     */
    public CompletableFuture<CertificateChain> getChain(final String name)
    {
        return submit(Operation.GET_CHAIN, 0, null, name.getBytes(StandardCharsets.UTF_8)).thenApply(payload ->
        {
            final ChainCodec.Chain chain = ChainCodec.decode(payload);
            try
            {
                final CertificateFactory cf = CertificateFactory.getInstance("X.509");
                final List<X509Certificate> certs = new ArrayList<>();
                for (final byte[] der : chain.certificatesDer())
                {
                    certs.add((X509Certificate)cf.generateCertificate(new ByteArrayInputStream(der)));
                }
                return new CertificateChain(name, chain.keyId(), chain.kind() == 2, List.copyOf(certs));
            }
            catch (final CertificateException ex)
            {
                throw new IllegalStateException("key server sent a certificate that does not parse", ex);
            }
        });
    }

    /**
     * @return the current session-ticket keys (encrypt with the first).
     */
    public CompletableFuture<TicketKeysCodec.TicketKeys> ticketKeys()
    {
        return submit(Operation.TICKET_KEYS, 0, null, new byte[0]).thenApply(TicketKeysCodec::decode);
    }

    /**
     * @param payload echoed back by the worker reading the request ring (no crypto): the bare IPC round trip.
     * @return the payload.
     */
    public CompletableFuture<byte[]> ping(final byte[] payload)
    {
        return submit(Operation.PING, 0, null, payload);
    }

    private CompletableFuture<byte[]> submit(final int op, final int param, final byte[] keyId, final byte[] payload)
    {
        requests.increment();
        final CompletableFuture<byte[]> future = new Reply();
        final Connection c = connection;
        if (c == null)
        {
            serverDownErrors.increment();
            future.completeExceptionally(new KeyServerException(Status.SERVER_DOWN, status));
            return future;
        }
        if (payload.length > c.layout().maxPayloadLength())
        {
            future.completeExceptionally(new KeyServerException(Status.BAD_LENGTH, payload.length + " bytes > "
                + c.layout().maxPayloadLength()));
            return future;
        }
        final long correlationId = correlationIds.incrementAndGet();
        pending.put(correlationId, new Pending(future, clock.time() + config.operationTimeoutMs()));
        c.users().getAndIncrement();
        try
        {
            if (connection != c)
            {
                // disconnected since we read it: its mapping may be unmapped as soon as we leave, so do not touch it
                fail(correlationId, Status.SERVER_DOWN, status);
                return future;
            }
            final int index = c.requests().tryClaim(op, RequestFlyweight.HEADER_LENGTH + payload.length);
            if (index <= 0)
            {
                pending.remove(correlationId);
                ringFull.increment();
                future.completeExceptionally(new KeyServerException(Status.RING_FULL, null));
                return future;
            }
            final MutableDirectBuffer buffer = c.requests().buffer();
            new RequestFlyweight().wrap(buffer, index)
                .correlationId(correlationId)
                .clientSlot(c.slot())
                .param(param)
                .keyId(keyId)
                .payloadLength(payload.length)
                .slotToken(c.token());
            buffer.putBytes(index + RequestFlyweight.HEADER_LENGTH, payload);
            c.requests().commit(index);
            // wake a key server worker if all of them sleep (inside the users guard: the futex word is in the mapping)
            c.requestSignal().signal();
        }
        finally
        {
            c.users().getAndDecrement();
        }
        if (connection != c)
        {
            // the poller declared the server dead between our read of the connection and the commit; it may have
            // failed the pending set before we joined it, so fail this one ourselves
            fail(correlationId, Status.SERVER_DOWN, status);
        }
        return future;
    }

    private void fail(final long correlationId, final int code, final String detail)
    {
        final Pending p = pending.remove(correlationId);
        if (p != null)
        {
            if (code == Status.SERVER_DOWN)
            {
                serverDownErrors.increment();
            }
            p.future().completeExceptionally(new KeyServerException(code, detail));
        }
    }

    private boolean tryConnect(final long nowMs)
    {
        final Path path = config.shmDir().resolve(KeyServerDescriptor.FILE_NAME);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final long size = ch.size();
            final MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
            final boolean attached = attach(path, mapped, size, nowMs);
            if (!attached)
            {
                // nobody else has seen this mapping
                IoUtil.unmap(mapped);
            }
            return attached;
        }
        catch (final NoSuchFileException ex)
        {
            status = "no key server at " + path;
            return false;
        }
        catch (final IOException | IllegalStateException | IllegalArgumentException ex)
        {
            status = "cannot attach to key server at " + path + ": " + ex.getMessage();
            return false;
        }
    }

    private boolean attach(final Path path, final MappedByteBuffer mapped, final long size, final long nowMs)
    {
        try
        {
            final UnsafeBuffer file = new UnsafeBuffer(mapped);
            final KeyServerDescriptor.Layout layout = KeyServerDescriptor.check(file, size);
            final long heartbeat = file.getLongVolatile(KeyServerDescriptor.SERVER_HEARTBEAT_OFFSET);
            if (nowMs - heartbeat > config.serverTimeoutMs())
            {
                status = "key server at " + path + " is not heartbeating (last " + (nowMs - heartbeat) + " ms ago)";
                return false;
            }
            final long token = (ProcessHandle.current().pid() << 24) ^ (new SecureRandom().nextLong() >>> 8) | 1L;
            for (int slot = 0; slot < layout.maxClients(); slot++)
            {
                final int slotOffset = layout.slotOffset(slot);
                if (file.compareAndSetLong(slotOffset + KeyServerDescriptor.SLOT_OWNER_OFFSET, 0, token))
                {
                    file.putLong(slotOffset + KeyServerDescriptor.SLOT_PID_OFFSET, ProcessHandle.current().pid());
                    final long instanceId = file.getLong(KeyServerDescriptor.INSTANCE_ID_OFFSET);
                    file.putLong(slotOffset + KeyServerDescriptor.SLOT_INSTANCE_OFFSET, instanceId);
                    file.putLongRelease(slotOffset + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET, nowMs);
                    connection = new Connection(file, mapped, layout, slot, token, instanceId,
                        new ManyToOneRingBuffer(layout.requestRing(file)), new ManyToOneRingBuffer(layout.responseRing(file, slot)),
                        layout.requestSignal(file), layout.responseSignal(file, slot), new AtomicInteger());
                    status = "connected to " + path + " (slot " + slot + ")";
                    LOG.log(Level.INFO, status);
                    return true;
                }
            }
            status = "key server at " + path + " has no free client slot (" + layout.maxClients() + " in use)";
            return false;
        }
        catch (final IllegalStateException | IllegalArgumentException ex)
        {
            status = "cannot attach to key server at " + path + ": " + ex.getMessage();
            return false;
        }
    }

    private void disconnect(final Connection c, final String reason)
    {
        connection = null;
        status = reason;
        LOG.log(Level.WARNING, reason);
        // hand the slot back: the server reclaims a slot whose heartbeat reads 0
        if (c.file().getLongVolatile(c.slotOffset() + KeyServerDescriptor.SLOT_OWNER_OFFSET) == c.token())
        {
            c.file().putLongRelease(c.slotOffset() + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET, 0);
        }
        final Iterator<Long> ids = pending.keySet().iterator();
        while (ids.hasNext())
        {
            fail(ids.next(), Status.SERVER_DOWN, reason);
        }
        retired.add(c);
        unmapRetired();
    }

    /** Unmap every retired mapping no caller is inside any more (see {@link Connection}). */
    private void unmapRetired()
    {
        final Iterator<Connection> it = retired.iterator();
        while (it.hasNext())
        {
            final Connection c = it.next();
            if (c.users().get() == 0)
            {
                it.remove();
                IoUtil.unmap(c.mapped());
            }
        }
    }

    @Override
    public void close()
    {
        runner.close();
        final Connection c = connection;
        if (c != null)
        {
            disconnect(c, "client closed");
        }
        // a caller still inside submit leaves within microseconds; one stuck longer keeps its mapping (the GC unmaps it)
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        while (!retired.isEmpty() && System.nanoTime() < deadline)
        {
            unmapRetired();
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
    }

    /**
     * Read the response ring if no other thread is reading it.
     *
     * @param c the current connection (the caller holds its mapping: the poller, or a caller counted in users).
     * @return replies read; -1 when another thread holds the reader role.
     */
    private int tryReadResponses(final Connection c)
    {
        if (readingResponses.get() || !readingResponses.compareAndSet(false, true))
        {
            return -1;
        }
        responseReader = Thread.currentThread();
        try
        {
            return c.responses().read(responseHandler, 64);
        }
        finally
        {
            responseReader = null;
            readingResponses.set(false);
        }
    }

    private int readResponses(final Connection c)
    {
        return Math.max(0, tryReadResponses(c));
    }

    /**
     * A caller about to block on {@code future}: read the response ring itself for up to {@code budgetNs} (yielding
     * between polls), so its reply needs neither the worker's wake of the poller nor the poller's unpark of the caller.
     */
    private void awaitActively(final CompletableFuture<byte[]> future, final long budgetNs)
    {
        if (future.isDone() || budgetNs <= 0 || !pollGuard.pollingAllowed(pollGuard.nanoTime())
            || responseReader == Thread.currentThread())
        {
            // (the last: a dependent stage run by onResponse blocks on another reply while this thread holds the reader
            // role, so its own reads could never succeed: don't spin on them. Such a stage must not block, as on the
            // poller thread, where it would stall every reply)
            return;
        }
        final Connection c = connection;
        if (c == null)
        {
            return;
        }
        c.users().getAndIncrement();
        try
        {
            if (connection != c)
            {
                return;
            }
            final ShmSignal signal = c.responseSignal();
            signal.beginPolling();
            try
            {
                final long startNs = pollGuard.nanoTime();
                long nowNs = startNs;
                while (!future.isDone() && nowNs - startNs < budgetNs)
                {
                    // a yield that handed the core away for a slice makes blocked callers park from then on
                    nowNs = tryReadResponses(c) <= 0 ? pollGuard.yield(nowNs, budgetNs) : pollGuard.nanoTime();
                }
            }
            finally
            {
                signal.endPolling();
            }
            // a reply committed while this caller was out of the sleeper count woke nobody: read once more now that it
            // is back in (or leave it to a reader that starts after this point, which sees it too)
            while (tryReadResponses(c) < 0 && c.responses().size() > 0)
            {
                Thread.onSpinWait();
            }
            if (c.responses().size() > 0)
            {
                // more than one read's worth arrived while nobody would have been woken: wake the poller for the rest
                c.responseSignal().signal();
            }
        }
        finally
        {
            c.users().getAndDecrement();
        }
    }

    /** Under the reader role. */
    private void onResponse(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (length < ResponseFlyweight.HEADER_LENGTH)
        {
            return;
        }
        response.wrap(buffer, index);
        final Pending p = pending.remove(response.correlationId());
        if (p == null)
        {
            return;
        }
        final int code = response.status();
        final int payloadLength = Math.min(response.payloadLength(), length - ResponseFlyweight.HEADER_LENGTH);
        if (code != Status.OK)
        {
            errorResponses.increment();
            final String detail = payloadLength > 0 ? buffer.getStringWithoutLengthUtf8(response.payloadOffset(), payloadLength) : null;
            p.future().completeExceptionally(new KeyServerException(code, detail));
            return;
        }
        final byte[] payload = new byte[Math.max(0, payloadLength)];
        buffer.getBytes(response.payloadOffset(), payload);
        p.future().complete(payload);
    }

    /**
     * The future {@link #submit} returns: a thread that blocks on it first reads the response ring itself for the spin
     * budget ({@link #awaitActively}). Futures derived from it ({@code thenApply}...) are plain and park at once.
     */
    private final class Reply extends CompletableFuture<byte[]>
    {
        @Override
        public byte[] get() throws InterruptedException, ExecutionException
        {
            awaitActively(this, spinNs);
            return super.get();
        }

        @Override
        public byte[] get(final long timeout, final TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException
        {
            awaitActively(this, Math.min(spinNs, unit.toNanos(timeout)));
            return super.get(timeout, unit);
        }

        @Override
        public byte[] join()
        {
            awaitActively(this, spinNs);
            return super.join();
        }
    }

    private final class Poller implements Agent
    {
        private long nextDutyMs;
        private long nextConnectMs;

        @Override
        public int doWork()
        {
            final long nowMs = clock.time();
            final Connection c = connection;
            if (!retired.isEmpty())
            {
                unmapRetired();
            }
            if (c == null)
            {
                if (nowMs >= nextConnectMs)
                {
                    nextConnectMs = nowMs + config.reconnectIntervalMs();
                    if (tryConnect(nowMs))
                    {
                        reconnects.increment();
                        return 1;
                    }
                }
                return 0;
            }
            int work = readResponses(c);
            if (nowMs >= nextDutyMs)
            {
                nextDutyMs = nowMs + config.heartbeatIntervalMs();
                work += duty(c, nowMs);
            }
            return work;
        }

        private int duty(final Connection c, final long nowMs)
        {
            final long serverHeartbeat = c.file().getLongVolatile(KeyServerDescriptor.SERVER_HEARTBEAT_OFFSET);
            if (nowMs - serverHeartbeat > config.serverTimeoutMs())
            {
                serverDeaths.increment();
                disconnect(c, "key server stopped heartbeating " + (nowMs - serverHeartbeat) + " ms ago");
                nextConnectMs = nowMs;
                return 1;
            }
            if (c.file().getLongVolatile(c.slotOffset() + KeyServerDescriptor.SLOT_OWNER_OFFSET) != c.token())
            {
                disconnect(c, "key server reclaimed this client's slot (client stalled?)");
                nextConnectMs = nowMs;
                return 1;
            }
            c.file().putLongRelease(c.slotOffset() + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET, nowMs);
            for (final Map.Entry<Long, Pending> e : pending.entrySet())
            {
                if (e.getValue().deadlineMs() < nowMs)
                {
                    timeouts.increment();
                    fail(e.getKey(), Status.TIMEOUT, "no reply within " + config.operationTimeoutMs() + " ms");
                }
            }
            return 0;
        }

        @Override
        public String roleName()
        {
            return "keyserver-client";
        }
    }
}
