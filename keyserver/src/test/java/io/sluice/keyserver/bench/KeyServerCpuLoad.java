package io.sluice.keyserver.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.keyserver.ChildKeyServer;
import io.sluice.keyserver.TestPki;
import io.sluice.keyserver.client.KeyServerClient;
import io.sluice.nativeio.crypto.SignatureScheme;

/**
 * CPU the key server and the client spend, idle and under a steady paced load of ECDSA P-256 signatures, read from
 * /proc (utime + stime of the key server child JVM, of its worker threads, and of this client's poller thread). The
 * load is asynchronous, as the proxy's (completions come through the poller). Arguments: requests per second
 * (default 1000), seconds per phase (default 10), the key server's --spin-us (default: its own default). Run with the test classpath, as the round-trip benchmark.
 */
public final class KeyServerCpuLoad
{
    private static final long TICK_NS = TimeUnit.SECONDS.toNanos(1) / 100; // USER_HZ

    private KeyServerCpuLoad()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int rate = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        final int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        final int spinUs = args.length > 2 ? Integer.parseInt(args[2]) : -1;
        final Path tmp = Files.createTempDirectory("ks-cpu");
        final TestPki pki = new TestPki(tmp);
        final TestPki.Issued root = pki.ca("cpu-root", "ec:P-256");
        final TestPki.Issued leaf = pki.server(root, "cpu-leaf", "ec:P-256", "cpu.test");
        final Path keys = tmp.resolve("keys");
        final Path shm = tmp.resolve("shm");
        final Path master = tmp.resolve("master.key");
        final ChildKeyServer.Result r = ChildKeyServer.runImport(tmp, "--dir", keys.toString(), "--master-key-file", master.toString(),
            "--name", "cpu", "--cert", leaf.cert().toString(), "--key", leaf.key().toString(), "--chain", root.cert().toString());
        if (r.exitCode() != 0)
        {
            throw new IllegalStateException(r.output());
        }
        try (ChildKeyServer server = spinUs < 0 ? ChildKeyServer.start(keys, shm, master, tmp)
                : ChildKeyServer.start(keys, shm, master, tmp, "--spin-us", Integer.toString(spinUs));
            KeyServerClient client = startClient(server, shm))
        {
            final byte[] keyId = client.getChain("cpu").get(5, TimeUnit.SECONDS).keyId();
            final byte[] message = new byte[130];
            // warm up (JIT) at the load's rate, then settle
            load(client, keyId, message, rate, 5);
            Thread.sleep(2000);
            final long[] idle = measure(server.pid(), () -> Thread.sleep(TimeUnit.SECONDS.toMillis(seconds)));
            final long[] busy = measure(server.pid(), () -> load(client, keyId, message, rate, seconds));
            System.out.printf("idle %d s: key server %.1f ms/s (workers %.1f), client poller %.1f ms/s%n", seconds,
                idle[0] / 1e6 / seconds, idle[1] / 1e6 / seconds, idle[2] / 1e6 / seconds);
            System.out.printf("%d req/s for %d s: key server %.1f ms/s (workers %.1f), client poller %.1f ms/s; %.1f µs of key "
                + "server CPU per request%n", rate, seconds, busy[0] / 1e6 / seconds, busy[1] / 1e6 / seconds, busy[2] / 1e6 / seconds,
                busy[0] / 1e3 / ((double)rate * seconds));
        }
        finally
        {
            try (Stream<Path> files = Files.walk(tmp))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static KeyServerClient startClient(final ChildKeyServer server, final Path shm) throws Exception
    {
        server.awaitReady(shm);
        final KeyServerClient client = KeyServerClient.start(KeyServerClient.Configuration.defaults(shm),
            new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18])));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!client.isConnected() && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        return client;
    }

    /** Paced asynchronous signatures; returns once all are answered. */
    private static void load(final KeyServerClient client, final byte[] keyId, final byte[] message, final int rate, final int seconds)
        throws InterruptedException
    {
        final long intervalNs = TimeUnit.SECONDS.toNanos(1) / rate;
        final long total = (long)rate * seconds;
        final AtomicLong done = new AtomicLong();
        final long start = System.nanoTime();
        for (long i = 0; i < total; i++)
        {
            final long due = start + i * intervalNs;
            long now;
            while ((now = System.nanoTime()) < due)
            {
                LockSupport.parkNanos(due - now);
            }
            client.sign(keyId, SignatureScheme.ECDSA_SECP256R1_SHA256.code(), message).whenComplete((s, e) -> done.incrementAndGet());
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (done.get() < total && System.nanoTime() < deadline)
        {
            Thread.sleep(1);
        }
    }

    private interface Phase
    {
        void run() throws Exception;
    }

    /** @return CPU ns during the phase: key server process, its workers, this client's poller. */
    private static long[] measure(final long serverPid, final Phase phase) throws Exception
    {
        final long[] before = {cpu(Path.of("/proc/" + serverPid)), threads(Path.of("/proc/" + serverPid), "keyserver-worke"),
            threads(Path.of("/proc/self"), "keyserver-clien")};
        phase.run();
        final long[] after = {cpu(Path.of("/proc/" + serverPid)), threads(Path.of("/proc/" + serverPid), "keyserver-worke"),
            threads(Path.of("/proc/self"), "keyserver-clien")};
        return new long[] {after[0] - before[0], after[1] - before[1], after[2] - before[2]};
    }

    private static long threads(final Path proc, final String comm) throws IOException
    {
        long sum = 0;
        try (Stream<Path> tasks = Files.list(proc.resolve("task")))
        {
            for (final Path task : tasks.toList())
            {
                try
                {
                    if (Files.readString(task.resolve("comm")).trim().equals(comm))
                    {
                        sum += cpu(task);
                    }
                }
                catch (final IOException ignored)
                {
                    // the thread ended
                }
            }
        }
        return sum;
    }

    private static long cpu(final Path procEntry) throws IOException
    {
        final String stat = Files.readString(procEntry.resolve("stat"));
        final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields 14 and 15 (utime, stime) are the 12th and 13th after the comm
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NS;
    }
}
