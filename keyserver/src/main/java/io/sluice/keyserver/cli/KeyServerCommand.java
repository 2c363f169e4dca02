package io.sluice.keyserver.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import io.sluice.counters.CountersFile;
import io.sluice.keyserver.ipc.KeyServerDescriptor;
import io.sluice.keyserver.ipc.SignalIdleStrategy;
import io.sluice.keyserver.server.KeyServer;
import io.sluice.keyserver.server.KeyServerConfiguration;
import io.sluice.keyserver.store.MasterKey;
import io.sluice.keyserver.store.SecureFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice keyserver}: runs the key server in the foreground until SIGTERM/SIGINT.
 * Standalone: {@code java -cp ... io.sluice.keyserver.cli.KeyServerCommand --dir DIR}.
 */
@Command(name = "keyserver", mixinStandardHelpOptions = true,
    description = "Run the key server: holds private keys (sealed in --dir) and signs for TLS proxies over shared memory.",
    subcommands = {ImportCommand.class, TicketSecretCommand.class})
public final class KeyServerCommand implements Callable<Integer>
{
    /** Room for the fixed counters plus one per key (520) with plenty to spare. */
    private static final int MAX_COUNTERS = 4096;

    @Option(names = "--dir", description = "key directory (sealed entries, 0700); required to run the server")
    Path dir;

    @Option(names = "--shm", description = "shared-memory directory (default ${DEFAULT-VALUE})")
    Path shm = KeyServerConfiguration.DEFAULT_SHM_DIR;

    @Option(names = "--master-key-file", description = "master key, outside --dir (default ${DEFAULT-VALUE})")
    Path masterKeyFile = MasterKey.DEFAULT_PATH;

    @Option(names = "--workers", description = "crypto worker threads (default: CPU count)")
    int workers = KeyServerConfiguration.DEFAULT_WORKER_THREADS;

    @Option(names = "--crypto", description = "auto | libcrypto | jca (default ${DEFAULT-VALUE})")
    String crypto = "auto";

    @Option(names = "--max-clients", description = "client slots (default ${DEFAULT-VALUE})")
    int maxClients = KeyServerConfiguration.DEFAULT_LAYOUT.maxClients();

    @Option(names = "--ticket-rotation-seconds", description = "session-ticket key period (default ${DEFAULT-VALUE})")
    long ticketRotationSeconds = KeyServerConfiguration.DEFAULT_TICKET_ROTATION_MS / 1000;

    @Option(names = "--idle", description = "how idle threads wait: backoff | yielding | busy-spin (default ${DEFAULT-VALUE}; "
        + "busy-spin only on dedicated cores)")
    String idle = "backoff";

    @Option(names = "--max-park-us", description = "backoff: longest park in microseconds while requests are visible but "
        + "another worker reads them (default ${DEFAULT-VALUE}); idle workers sleep on a futex until a request comes")
    long maxParkMicros = 1000;

    @Option(names = "--spin-us", description = "backoff: after a request a worker keeps polling (yielding between polls) this long "
        + "before it sleeps, so the next request needs no wake-up (default ${DEFAULT-VALUE}; 0..1000; yielding and busy-spin "
        + "never sleep)")
    long spinMicros = SignalIdleStrategy.DEFAULT_SPIN_NS / 1000;

    @Override
    public Integer call() throws Exception
    {
        if (dir == null)
        {
            // not `required` in picocli terms: that would also demand it before the import subcommand
            throw new CommandLine.ParameterException(new CommandLine(this), "Missing required option: '--dir=<dir>'");
        }
        final KeyServerDescriptor.Layout d = KeyServerConfiguration.DEFAULT_LAYOUT;
        final KeyServerConfiguration config;
        try
        {
            config = new KeyServerConfiguration(dir, shm, masterKeyFile,
                new KeyServerDescriptor.Layout(d.requestRingCapacity(), d.responseRingCapacity(), maxClients, d.maxPayloadLength()),
                workers, KeyServerConfiguration.DEFAULT_HEARTBEAT_INTERVAL_MS, KeyServerConfiguration.DEFAULT_CLIENT_TIMEOUT_MS,
                KeyServerConfiguration.DEFAULT_UNBLOCK_TIMEOUT_MS, KeyServerConfiguration.DEFAULT_RESCAN_INTERVAL_MS,
                ticketRotationSeconds * 1000, crypto);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("keyserver: " + ex.getMessage());
            return 2;
        }
        try
        {
            SecureFiles.ensurePrivateDirectory(shm);
            KeyServer.ensureNoLiveServer(shm);
            MasterKey.load(masterKeyFile, dir);
        }
        catch (final IOException ex)
        {
            // expected operator errors: one line, no stack trace
            System.err.println("keyserver: " + ex.getMessage());
            return 1;
        }
        if (maxParkMicros < 1 || maxParkMicros > 1_000_000)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--max-park-us: " + maxParkMicros + " is not in 1..1000000");
        }
        if (spinMicros < 0 || spinMicros > 1000)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--spin-us: " + spinMicros + " is not in 0..1000");
        }
        final Supplier<IdleStrategy> idleStrategies = switch (idle)
        {
            case "backoff" -> () -> new BackoffIdleStrategy(100, 100, 1000, TimeUnit.MICROSECONDS.toNanos(maxParkMicros));
            case "yielding" -> YieldingIdleStrategy::new;
            case "busy-spin" -> BusySpinIdleStrategy::new;
            default -> throw new CommandLine.ParameterException(new CommandLine(this),
                "--idle: " + idle + " is not one of backoff, yielding, busy-spin");
        };
        // counters live in SHM/counters, the node's counters-file format: `sluice stat --dir SHM` reads them live
        final CountersFile countersFile = CountersFile.create(shm.resolve(CountersFile.FILE_NAME), MAX_COUNTERS, "keyserver");
        final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "keyserver-counters-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleAtFixedRate(() -> countersFile.heartbeat(System.currentTimeMillis()), 1, 1, TimeUnit.SECONDS);
        final CountDownLatch stop = new CountDownLatch(1);
        final KeyServer server;
        try
        {
            // idle workers poll for --spin-us, then sleep on the request ring's futex word, at most one duty period (the
            // heartbeat interval) at a time: every wake-up for work comes through the futex
            server = KeyServer.start(config, countersFile.manager(), idleStrategies,
                TimeUnit.MILLISECONDS.toNanos(config.heartbeatIntervalMs()), TimeUnit.MICROSECONDS.toNanos(spinMicros));
        }
        catch (final IOException | RuntimeException ex)
        {
            System.err.println("keyserver: cannot start: " + ex.getMessage());
            heartbeat.shutdownNow();
            countersFile.close();
            return 1;
        }
        final Thread hook = new Thread(() ->
        {
            server.close();
            heartbeat.shutdownNow();
            countersFile.close();
            stop.countDown();
        }, "keyserver-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("keyserver ready: " + server.registry().size() + " entries, shm " + server.shmFile()
            + ", crypto " + server.cryptoProviderName());
        System.out.flush();
        stop.await();
        return 0;
    }

    public static void main(final String[] args)
    {
        System.exit(new CommandLine(new KeyServerCommand()).execute(args));
    }
}
