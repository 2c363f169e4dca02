package io.sluice.keyserver.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import io.sluice.keyserver.ChildKeyServer;
import io.sluice.keyserver.TestPki;
import io.sluice.keyserver.client.KeyServerClient;
import io.sluice.nativeio.crypto.CryptoProviders;
import io.sluice.nativeio.crypto.PrivateKeyCrypto;
import io.sluice.nativeio.crypto.SignatureScheme;

/**
 * Key-server round trip over shared memory against a key server child JVM, beside the same signature made in-process
 * (libcrypto), and a bare IPC round trip (ping, answered by the reading worker). IPC overhead = ipcSign - inProcessSign,
 * and ≈ ipcPing. One request in flight at a time (a handshake's view). {@code ipcSign}/{@code ipcPing} block on the
 * returned future, which reads its own reply for the client's spin budget before parking; the {@code ViaPoller}
 * variants wait on a derived future, completed by the client's poller (what an asynchronous caller such as the proxy's
 * BoringSSL private-key method sees, plus one in-process wake-up of the waiting thread). Run:
 * {@code java <sluice flags> -cp <test classpath> io.sluice.keyserver.bench.KeyServerRoundTripBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class KeyServerRoundTripBenchmark
{
    private static final byte[] MESSAGE = new byte[130];

    private Path tmp;
    private ChildKeyServer server;
    private KeyServerClient client;
    private byte[] keyId;
    private PrivateKeyCrypto.LoadedKey localKey;
    private final byte[] pingPayload = new byte[32];

    /** The key server's --spin-us and the client's spin budget (microseconds). */
    @Param("50")
    public int spinUs;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        tmp = Files.createTempDirectory("ks-bench");
        final TestPki pki = new TestPki(tmp);
        final TestPki.Issued root = pki.ca("bench-root", "ec:P-256");
        final TestPki.Issued leaf = pki.server(root, "bench-leaf", "ec:P-256", "bench.test");
        final Path keys = tmp.resolve("keys");
        final Path shm = tmp.resolve("shm");
        final Path master = tmp.resolve("master.key");
        final ChildKeyServer.Result r = ChildKeyServer.runImport(tmp, "--dir", keys.toString(), "--master-key-file", master.toString(),
            "--name", "bench", "--cert", leaf.cert().toString(), "--key", leaf.key().toString(), "--chain", root.cert().toString());
        if (r.exitCode() != 0)
        {
            throw new IllegalStateException(r.output());
        }
        server = ChildKeyServer.start(keys, shm, master, tmp, "--spin-us", Integer.toString(spinUs));
        server.awaitReady(shm);
        client = KeyServerClient.start(KeyServerClient.Configuration.defaults(shm),
            new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18])),
            KeyServerClient.defaultIdleStrategy(), TimeUnit.MICROSECONDS.toNanos(spinUs));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!client.isConnected() && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        keyId = client.getChain("bench").get(5, TimeUnit.SECONDS).keyId();
        localKey = CryptoProviders.best().loadPem(Files.readAllBytes(leaf.key()));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        client.close();
        server.close();
        localKey.close();
        try (Stream<Path> files = Files.walk(tmp))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public byte[] inProcessSignEcdsaP256()
    {
        return localKey.sign(SignatureScheme.ECDSA_SECP256R1_SHA256, MESSAGE);
    }

    @Benchmark
    public byte[] ipcSignEcdsaP256() throws Exception
    {
        return client.sign(keyId, SignatureScheme.ECDSA_SECP256R1_SHA256.code(), MESSAGE).get();
    }

    @Benchmark
    public byte[] ipcPing() throws Exception
    {
        return client.ping(pingPayload).get();
    }

    /** The asynchronous caller's path (the proxy's): the client's poller reads the reply and wakes the caller. */
    @Benchmark
    public byte[] ipcSignEcdsaP256ViaPoller() throws Exception
    {
        return client.sign(keyId, SignatureScheme.ECDSA_SECP256R1_SHA256.code(), MESSAGE).copy().get();
    }

    /** The asynchronous caller's path for the bare round trip. */
    @Benchmark
    public byte[] ipcPingViaPoller() throws Exception
    {
        return client.ping(pingPayload).copy().get();
    }

    /**
     * The asynchronous path without the caller's park: the poller completes the future and a completion action sets a
     * flag the caller polls (yielding), so the figure is worker → poller → callback, as a proxy's event loop sees it
     * before its own hand-off, without the in-process wake-up of a parked benchmark thread.
     */
    @Benchmark
    public boolean ipcSignEcdsaP256ViaPollerNoPark()
    {
        return awaitCallback(client.sign(keyId, SignatureScheme.ECDSA_SECP256R1_SHA256.code(), MESSAGE));
    }

    /** {@link #ipcSignEcdsaP256ViaPollerNoPark} for the bare round trip. */
    @Benchmark
    public boolean ipcPingViaPollerNoPark()
    {
        return awaitCallback(client.ping(pingPayload));
    }

    private static boolean awaitCallback(final CompletableFuture<byte[]> reply)
    {
        final AtomicBoolean called = new AtomicBoolean();
        reply.whenComplete((value, error) -> called.set(true));
        while (!called.get())
        {
            Thread.yield();
        }
        return reply.isCompletedExceptionally();
    }

    public static void main(final String[] args) throws Exception
    {
        new Runner(new OptionsBuilder().include(KeyServerRoundTripBenchmark.class.getSimpleName()).build()).run();
    }
}
