package io.sluice.keyserver.server;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.agrona.IoUtil;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.keyserver.ipc.Futex;
import io.sluice.keyserver.ipc.KeyServerDescriptor;
import io.sluice.keyserver.ipc.ShmSignal;
import io.sluice.keyserver.ipc.SignalIdleStrategy;
import io.sluice.keyserver.store.KeyDirectory;
import io.sluice.keyserver.store.MasterKey;
import io.sluice.keyserver.store.SecureFiles;
import io.sluice.nativeio.crypto.CryptoProviders;
import io.sluice.nativeio.crypto.PrivateKeyCrypto;

/**
 * A running key server: the shared-memory file, crypto worker agents that read the request ring themselves (one at a
 * time, see {@link RequestReader}) and the directory rescans.
 */
public final class KeyServer implements AutoCloseable
{
    private static final Logger LOG = System.getLogger(KeyServer.class.getName());

    private final KeyServerConfiguration config;
    private final Path shmFile;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer file;
    private final KeyRegistry registry;
    private final RequestReader reader;
    private final List<AgentRunner> workerRunners = new ArrayList<>();
    private final PrivateKeyCrypto crypto;
    private final ScheduledExecutorService rescans;
    private final ScheduledExecutorService heartbeat;
    private final KeyDirectory directory;
    private long ticketSecretStamp;

    private KeyServer(final KeyServerConfiguration config, final CountersManager counters, final Supplier<IdleStrategy> idle,
        final long maxWaitNs, final long spinNs) throws IOException
    {
        this.config = config;
        final MasterKey masterKey = MasterKey.load(config.masterKeyFile(), config.dir());
        final KeyDirectory directory = new KeyDirectory(config.dir(), masterKey);
        SecureFiles.ensurePrivateDirectory(config.dir());
        this.crypto = CryptoProviders.named(config.cryptoProvider());
        LOG.log(Level.INFO, "signing with " + crypto.name());
        this.registry = new KeyRegistry(directory, crypto, counters);
        registry.rescan();

        byte[] ticketSecret = directory.loadTicketSecret();
        if (ticketSecret == null)
        {
            // a lone key server makes its own; a cluster gets one secret provisioned to every machine (docs/keyserver.md)
            ticketSecret = new byte[48];
            new SecureRandom().nextBytes(ticketSecret);
            directory.storeTicketSecret(ticketSecret);
            LOG.log(Level.INFO, "generated a ticket secret (provision a shared one for resumption across machines)");
        }
        final TicketKeyDeriver tickets = new TicketKeyDeriver(ticketSecret, config.ticketRotationMs());
        this.directory = directory;
        this.ticketSecretStamp = ticketSecretStamp();

        // before the file (and its heartbeat) is published: a worker's first futex call must not stall the duty
        Futex.warmUp();
        SecureFiles.ensurePrivateDirectory(config.shmDir());
        ensureNoLiveServer(config.shmDir());
        this.shmFile = config.shmDir().resolve(KeyServerDescriptor.FILE_NAME);
        final KeyServerDescriptor.Layout layout = config.layout();
        final Path tmp = config.shmDir().resolve(KeyServerDescriptor.FILE_NAME + ".tmp-" + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, SecureFiles.FILE_0600);
        try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE)))
        {
            ch.truncate(layout.fileLength());
            ch.write(ByteBuffer.wrap(new byte[1]), layout.fileLength() - 1);
            this.mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, layout.fileLength());
        }
        catch (final IOException ex)
        {
            Files.deleteIfExists(tmp);
            throw ex;
        }
        this.file = new UnsafeBuffer(mapped);
        layout.writeHeader(file, ProcessHandle.current().pid(), new SecureRandom().nextLong());
        file.putLongVolatile(KeyServerDescriptor.SERVER_HEARTBEAT_OFFSET, System.currentTimeMillis());
        KeyServerDescriptor.Layout.publish(file);
        // rename over any file a dead predecessor left: its clients see its heartbeat stop and reopen this path
        Files.move(tmp, shmFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        this.rescans = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "keyserver-rescan");
            t.setDaemon(true);
            return t;
        });
        // The process's heartbeat has a thread of its own: a worker busy with a long operation (a cold JCA RSA key, one
        // worker) must not let clients declare a live server dead. Workers still stamp it in their duty; a server whose
        // workers are all stuck shows up as per-request timeouts instead.
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "keyserver-heartbeat");
            t.setDaemon(true);
            return t;
        });
        this.reader = new RequestReader(config, file, registry, tickets, counters, SystemEpochClock.INSTANCE);
        final ShmSignal requestSignal = reader.requestSignal();
        for (int i = 0; i < config.workerThreads(); i++)
        {
            // after a request a worker polls for spinNs, then sleeps on the request ring's futex word: a client's commit
            // wakes it at once; while it polls it is out of the signal's sleeper count, so a client does not wake a
            // sleeping worker for a request the polling one takes (the agent ends that before it signs)
            final SignalIdleStrategy workerIdle = new SignalIdleStrategy(idle.get(), () -> requestSignal, reader::hasUnreadRequests,
                maxWaitNs, spinNs, true);
            workerRunners.add(new AgentRunner(workerIdle, KeyServer::onAgentError, null,
                new CryptoWorkerAgent(i, reader, layout.maxPayloadLength(), workerIdle)));
        }
    }

    /**
     * Refuse to take over a shared-memory path a live key server is serving: renaming a new file over it would split
     * the clients between two servers.
     *
     * @param shmDir the --shm directory.
     * @throws IOException naming the running server's pid.
     */
    public static void ensureNoLiveServer(final Path shmDir) throws IOException
    {
        final Path file = shmDir.resolve(KeyServerDescriptor.FILE_NAME);
        if (!Files.exists(file))
        {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ))
        {
            if (ch.size() < KeyServerDescriptor.REQUEST_RING_OFFSET)
            {
                return;
            }
            final UnsafeBuffer header = new UnsafeBuffer(ByteBuffer.allocateDirect(KeyServerDescriptor.REQUEST_RING_OFFSET));
            ch.read(header.byteBuffer(), 0);
            final long pid = header.getLong(KeyServerDescriptor.SERVER_PID_OFFSET);
            final long heartbeat = header.getLong(KeyServerDescriptor.SERVER_HEARTBEAT_OFFSET);
            final boolean alive = pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            if (header.getLong(KeyServerDescriptor.MAGIC_OFFSET) == KeyServerDescriptor.MAGIC && alive
                && System.currentTimeMillis() - heartbeat < 2000)
            {
                throw new IOException("another key server (pid " + pid + ") is serving " + file + "; stop it first");
            }
        }
    }

    /**
     * Start a key server: load the directory, create the shared-memory file, start the workers.
     *
     * @param config the configuration.
     * @param counters where counters go.
     * @return the running server.
     * @throws IOException when the directory, master key or shm file cannot be set up.
     */
    public static KeyServer start(final KeyServerConfiguration config, final CountersManager counters) throws IOException
    {
        return start(config, counters, KeyServer::defaultIdleStrategy);
    }

    /**
     * Start a key server whose workers idle as the node's perf profile says.
     *
     * @param config the configuration.
     * @param counters where counters go.
     * @param idleStrategies a fresh strategy per thread (e.g. {@code profile::newIdleStrategy}).
     * @return the running server.
     * @throws IOException when the directory, master key or shm file cannot be set up.
     */
    public static KeyServer start(final KeyServerConfiguration config, final CountersManager counters,
        final Supplier<IdleStrategy> idleStrategies) throws IOException
    {
        // an idle worker wakes for nothing but its duty (every wake-up for work comes through the futex): one duty
        // period at a time (at 1 ms two idle workers cost ~15 ms of CPU per second, docs/keyserver.md)
        return start(config, counters, idleStrategies, TimeUnit.MILLISECONDS.toNanos(config.heartbeatIntervalMs()));
    }

    /**
     * Start a key server whose idle workers sleep on the request ring's futex word at most {@code maxWaitNs} at a time
     * (the bound on how late the heartbeat and reclaim duty can run), backing off with the given strategies while work
     * is visible but taken by another worker. Strategies that never sleep (busy-spin, yielding) are used alone.
     *
     * @param config the configuration.
     * @param counters where counters go.
     * @param idleStrategies a fresh strategy per thread (e.g. {@code profile::newIdleStrategy}).
     * @param maxWaitNs longest futex sleep of an idle worker, nanoseconds (1 µs..1 s).
     * @return the running server.
     * @throws IOException when the directory, master key or shm file cannot be set up.
     */
    public static KeyServer start(final KeyServerConfiguration config, final CountersManager counters,
        final Supplier<IdleStrategy> idleStrategies, final long maxWaitNs) throws IOException
    {
        return start(config, counters, idleStrategies, maxWaitNs, SignalIdleStrategy.DEFAULT_SPIN_NS);
    }

    /**
     * {@link #start(KeyServerConfiguration, CountersManager, Supplier, long)} with the workers' spin budget: after a
     * request a worker keeps polling the ring (yielding between polls) for {@code spinNs} before it sleeps, so a
     * request arriving within that needs no futex wake-up. Ignored by strategies that never sleep (busy-spin, yielding).
     *
     * @param config the configuration.
     * @param counters where counters go.
     * @param idleStrategies a fresh strategy per thread (e.g. {@code profile::newIdleStrategy}).
     * @param maxWaitNs longest futex sleep of an idle worker, nanoseconds (1 µs..1 s).
     * @param spinNs polling after work before sleeping, nanoseconds (0..{@link SignalIdleStrategy#MAX_SPIN_NS}).
     * @return the running server.
     * @throws IOException when the directory, master key or shm file cannot be set up.
     */
    public static KeyServer start(final KeyServerConfiguration config, final CountersManager counters,
        final Supplier<IdleStrategy> idleStrategies, final long maxWaitNs, final long spinNs) throws IOException
    {
        final KeyServer server = new KeyServer(config, counters, idleStrategies, maxWaitNs, spinNs);
        server.rescans.scheduleWithFixedDelay(server::rescan, config.rescanIntervalMs(), config.rescanIntervalMs(),
            TimeUnit.MILLISECONDS);
        server.heartbeat.scheduleAtFixedRate(
            () -> server.file.putLongRelease(KeyServerDescriptor.SERVER_HEARTBEAT_OFFSET, System.currentTimeMillis()),
            config.heartbeatIntervalMs(), config.heartbeatIntervalMs(), TimeUnit.MILLISECONDS);
        for (final AgentRunner r : server.workerRunners)
        {
            AgentRunner.startOnThread(r);
        }
        return server;
    }

    public Path shmFile()
    {
        return shmFile;
    }

    public KeyRegistry registry()
    {
        return registry;
    }

    public String cryptoProviderName()
    {
        return crypto.name();
    }

    /** Spin briefly, then yield, then park up to 1 ms: fast under load, near-idle on a shared 2-core machine. */
    public static IdleStrategy defaultIdleStrategy()
    {
        return new BackoffIdleStrategy(100, 100, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
    }

    private static void onAgentError(final Throwable t)
    {
        LOG.log(Level.ERROR, "key server agent error", t);
    }

    private void rescan()
    {
        try
        {
            registry.rescan();
            final long stamp = ticketSecretStamp();
            if (stamp != ticketSecretStamp)
            {
                final byte[] secret = directory.loadTicketSecret();
                if (secret != null)
                {
                    reader.tickets(new TicketKeyDeriver(secret, config.ticketRotationMs()));
                    LOG.log(Level.INFO, "session ticket secret replaced");
                }
                ticketSecretStamp = stamp;
            }
        }
        catch (final IOException ex)
        {
            LOG.log(Level.WARNING, "cannot reload the ticket secret: " + ex.getMessage());
        }
        catch (final RuntimeException ex)
        {
            LOG.log(Level.WARNING, "rescan failed", ex);
        }
    }

    private long ticketSecretStamp()
    {
        try
        {
            final Path file = config.dir().resolve(KeyDirectory.TICKET_SECRET_FILE);
            return Files.getLastModifiedTime(file).toMillis() * 31 + Files.size(file)
                + Files.readAttributes(file, "unix:ino").hashCode();
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            return 0;
        }
    }

    @Override
    public void close()
    {
        rescans.shutdownNow();
        heartbeat.shutdownNow();
        for (final AgentRunner r : workerRunners)
        {
            r.close();
        }
        try
        {
            Files.deleteIfExists(shmFile);
        }
        catch (final IOException ex)
        {
            LOG.log(Level.WARNING, "cannot remove " + shmFile + ": " + ex.getMessage());
        }
        IoUtil.unmap(mapped);
        registry.close();
        LOG.log(Level.INFO, "key server stopped, " + config.dir() + " unchanged");
    }
}
