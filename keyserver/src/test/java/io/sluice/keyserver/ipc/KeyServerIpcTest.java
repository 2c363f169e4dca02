package io.sluice.keyserver.ipc;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.status.ConcurrentCountersManager;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.sluice.keyserver.Imports;
import io.sluice.keyserver.KeyServerCounter;
import io.sluice.keyserver.TestPki;
import io.sluice.keyserver.client.CertificateChain;
import io.sluice.keyserver.client.KeyServerClient;
import io.sluice.keyserver.client.KeyServerException;
import io.sluice.keyserver.client.KeylessTlsContexts;
import io.sluice.keyserver.client.TlsPolicy;
import io.sluice.keyserver.server.KeyServer;
import io.sluice.keyserver.server.KeyServerConfiguration;
import io.sluice.keyserver.server.TicketKeyDeriver;
import io.sluice.keyserver.cli.KeyServerCommand;
import picocli.CommandLine;
import io.sluice.nativeio.crypto.SignatureScheme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyServerIpcTest
{
    @TempDir
    static Path pkiDir;
    static TestPki pki;
    static TestPki.Issued root;
    static TestPki.Issued rsa;
    static TestPki.Issued ec;

    @TempDir
    Path tmp;
    Path keys;
    Path shm;
    Path masterKey;
    CountersManager counters;
    KeyServer server;
    KeyServerClient client;

    @BeforeAll
    static void pki() throws IOException
    {
        pki = new TestPki(pkiDir);
        root = pki.ca("ipc-root", "ec:P-256");
        rsa = pki.server(root, "ipc-rsa", "rsa:2048", "rsa.ipc.test");
        ec = pki.server(root, "ipc-ec", "ec:P-256", "ec.ipc.test");
    }

    @BeforeEach
    void start() throws IOException, InterruptedException
    {
        keys = tmp.resolve("keys");
        shm = tmp.resolve("shm");
        masterKey = tmp.resolve("master.key");
        Imports.importCertificate(keys, masterKey, "rsa", rsa, root.cert());
        Imports.importCertificate(keys, masterKey, "ec", ec, root.cert());
        // concurrent: the key server's rescan thread allocates per-key counters while the test allocates client ones
        counters = new ConcurrentCountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
        server = KeyServer.start(config(), counters);
        client = KeyServerClient.start(KeyServerClient.Configuration.defaults(shm), counters);
        await(client::isConnected);
    }

    @AfterEach
    void stop()
    {
        if (client != null)
        {
            client.close();
        }
        if (server != null)
        {
            server.close();
        }
    }

    private KeyServerConfiguration config()
    {
        final KeyServerConfiguration d = KeyServerConfiguration.defaults(keys, shm, masterKey);
        return new KeyServerConfiguration(keys, shm, masterKey, new KeyServerDescriptor.Layout(1 << 16, 1 << 16, 4, 4096), 2,
            50, 500, 200, 100, d.ticketRotationMs(), "auto");
    }

    @Test
    void shouldCreateOwnerOnlySharedMemoryFile() throws IOException
    {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(shm))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(server.shmFile()))).isEqualTo("rw-------");
    }

    @Test
    void shouldSignOverSharedMemoryWithTheCertificatesKey() throws Exception
    {
        final CertificateChain rsaChain = client.getChain("rsa").get(5, TimeUnit.SECONDS);
        final CertificateChain ecChain = client.getChain("ec").get(5, TimeUnit.SECONDS);
        assertThat(rsaChain.certificates()).hasSize(1);
        assertThat(rsaChain.ca()).isFalse();
        final byte[] message = "transcript".getBytes(StandardCharsets.US_ASCII);

        final byte[] pss = client.sign(rsaChain.keyId(), SignatureScheme.RSA_PSS_RSAE_SHA256.code(), message).get(5, TimeUnit.SECONDS);
        final Signature v = Signature.getInstance("RSASSA-PSS");
        v.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
        v.initVerify(rsaChain.certificates().getFirst().getPublicKey());
        v.update(message);
        assertThat(v.verify(pss)).isTrue();

        final byte[] ecdsa = client.sign(ecChain.keyId(), SignatureScheme.ECDSA_SECP256R1_SHA256.code(), message).get(5, TimeUnit.SECONDS);
        final Signature e = Signature.getInstance("SHA256withECDSA");
        e.initVerify(ecChain.certificates().getFirst().getPublicKey());
        e.update(message);
        assertThat(e.verify(ecdsa)).isTrue();
        assertThat(counter(KeyServerCounter.SIGN_OPS)).isEqualTo(2);
    }

    @Test
    void shouldAnswerEveryRequestOfConcurrentClientsWithItsOwnSignature() throws Exception
    {
        final CertificateChain ecChain = client.getChain("ec").get(5, TimeUnit.SECONDS);
        try (KeyServerClient second = KeyServerClient.start(KeyServerClient.Configuration.defaults(shm), counters))
        {
            await(second::isConnected);
            final List<byte[]> messages = new ArrayList<>();
            final List<CompletableFuture<byte[]>> signatures = new ArrayList<>();
            for (int i = 0; i < 200; i++)
            {
                final byte[] message = ("message " + i).getBytes(StandardCharsets.US_ASCII);
                messages.add(message);
                final KeyServerClient sender = i % 2 == 0 ? client : second;
                signatures.add(sender.sign(ecChain.keyId(), SignatureScheme.ECDSA_SECP256R1_SHA256.code(), message));
            }
            final Signature v = Signature.getInstance("SHA256withECDSA");
            for (int i = 0; i < messages.size(); i++)
            {
                v.initVerify(ecChain.certificates().getFirst().getPublicKey());
                v.update(messages.get(i));
                assertThat(v.verify(signatures.get(i).get(10, TimeUnit.SECONDS))).as("signature %d", i).isTrue();
            }
        }
        assertThat(counter(KeyServerCounter.SIGN_OPS)).isEqualTo(200);
    }

    @Test
    void shouldSignThroughTheJcaFallbackWhenAsked() throws Exception
    {
        final Path jcaShm = tmp.resolve("shm-jca");
        final KeyServerConfiguration c = config();
        try (KeyServer jca = KeyServer.start(new KeyServerConfiguration(keys, jcaShm, masterKey, c.layout(), 1, 50, 500, 200, 100,
                c.ticketRotationMs(), "jca"), counters);
            KeyServerClient jcaClient = KeyServerClient.start(KeyServerClient.Configuration.defaults(jcaShm), counters))
        {
            assertThat(jca.cryptoProviderName()).isEqualTo("jca");
            await(jcaClient::isConnected);
            final CertificateChain rsaChain = jcaClient.getChain("rsa").get(5, TimeUnit.SECONDS);
            final byte[] message = "jca".getBytes(StandardCharsets.US_ASCII);
            final byte[] sig = jcaClient.sign(rsaChain.keyId(), SignatureScheme.RSA_PKCS1_SHA384.code(), message).get(5, TimeUnit.SECONDS);
            final Signature v = Signature.getInstance("SHA384withRSA");
            v.initVerify(rsaChain.certificates().getFirst().getPublicKey());
            v.update(message);
            assertThat(v.verify(sig)).isTrue();
        }
    }

    @Test
    void shouldAnswerUnknownKeyNameSchemeAndOperationWithCountedErrors() throws Exception
    {
        final CertificateChain ecChain = client.getChain("ec").get(5, TimeUnit.SECONDS);
        assertStatus(client.sign(new byte[32], SignatureScheme.ECDSA_SECP256R1_SHA256.code(), new byte[8]), Status.UNKNOWN_KEY);
        assertStatus(client.sign(ecChain.keyId(), SignatureScheme.RSA_PSS_RSAE_SHA256.code(), new byte[8]), Status.UNSUPPORTED_SCHEME);
        assertStatus(client.sign(ecChain.keyId(), 0x1234, new byte[8]), Status.UNSUPPORTED_SCHEME);
        assertStatus(client.decrypt(ecChain.keyId(), new byte[64]), Status.UNSUPPORTED_SCHEME);
        assertStatus(client.getChain("nope"), Status.UNKNOWN_NAME);
        assertThat(counter(KeyServerCounter.ERR_UNKNOWN_KEY)).isEqualTo(1);
        assertThat(counter(KeyServerCounter.ERR_UNSUPPORTED_SCHEME)).isEqualTo(3);
        assertThat(counter(KeyServerCounter.ERR_UNKNOWN_NAME)).isEqualTo(1);

        try (RawClient raw = new RawClient(server.shmFile(), 3))
        {
            raw.send(99, 7L, new byte[4], 4);
            assertThat(raw.awaitStatus(7L)).isEqualTo(Status.BAD_OPERATION);
            raw.send(Operation.SIGN, 8L, new byte[10], 20);
            assertThat(raw.awaitStatus(8L)).isEqualTo(Status.BAD_LENGTH);
        }
        assertThat(counter(KeyServerCounter.ERR_BAD_OPERATION)).isEqualTo(1);
        assertThat(counter(KeyServerCounter.ERR_BAD_LENGTH)).isEqualTo(1);
    }

    @Test
    void shouldRejectPayloadsBeyondTheLimitOnTheClient()
    {
        assertStatus(client.sign(new byte[32], SignatureScheme.ED25519.code(), new byte[5000]), Status.BAD_LENGTH);
    }

    @Test
    void shouldUnblockRequestRingWhenAClientDiesBetweenClaimAndCommit() throws Exception
    {
        final CertificateChain ecChain = client.getChain("ec").get(5, TimeUnit.SECONDS);
        try (RawClient raw = new RawClient(server.shmFile(), 3))
        {
            // a producer that claimed and never committed: everything behind it waits until the server unblocks
            assertThat(raw.requests.tryClaim(Operation.SIGN, 100)).isPositive();
            final byte[] sig = client.sign(ecChain.keyId(), SignatureScheme.ECDSA_SECP256R1_SHA256.code(), new byte[8])
                .get(10, TimeUnit.SECONDS);
            assertThat(sig).isNotEmpty();
        }
        assertThat(counter(KeyServerCounter.REQUEST_RING_UNBLOCKED)).isEqualTo(1);
    }

    @Test
    void shouldReclaimTheSlotOfADeadClient() throws Exception
    {
        final Process dead = new ProcessBuilder("true").start();
        dead.waitFor(10, TimeUnit.SECONDS);
        try (RawClient raw = new RawClient(server.shmFile(), 2))
        {
            raw.file.putLong(raw.slotOffset + KeyServerDescriptor.SLOT_PID_OFFSET, dead.pid());
            // its last heartbeat: the moment it died
            raw.file.putLongVolatile(raw.slotOffset + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET, System.currentTimeMillis());
            await(() -> raw.file.getLongVolatile(raw.slotOffset + KeyServerDescriptor.SLOT_OWNER_OFFSET) == 0);
        }
        assertThat(counter(KeyServerCounter.CLIENTS_RECLAIMED)).isEqualTo(1);
        assertThat(client.isConnected()).isTrue();
    }

    @Test
    void shouldFailFastWhileServerIsDownAndReconnectByItself() throws Exception
    {
        // a client silent for the usual 500 ms (its poller starved under load ~24) was once reclaimed just before the
        // server went down, and left as "reclaimed", not as a server death: this test is about the server's silence only
        client.close();
        server.close();
        final KeyServerConfiguration d = config();
        server = KeyServer.start(new KeyServerConfiguration(keys, shm, masterKey, d.layout(), 2, 50, 10_000, 200, 100,
            d.ticketRotationMs(), "auto"), counters);
        client = KeyServerClient.start(KeyServerClient.Configuration.defaults(shm), counters);
        await(client::isConnected);
        final long deathsBefore = counter(KeyServerCounter.CLIENT_SERVER_DEATHS);

        server.close();
        server = null;
        await(() -> !client.isConnected());
        assertThat(client.status()).containsAnyOf("stopped heartbeating", "no key server");
        assertStatus(client.getChain("ec"), Status.SERVER_DOWN);
        assertThat(counter(KeyServerCounter.CLIENT_SERVER_DEATHS) - deathsBefore).isEqualTo(1);

        server = KeyServer.start(config(), counters);
        await(client::isConnected);
        assertThat(client.getChain("ec").get(5, TimeUnit.SECONDS).name()).isEqualTo("ec");
    }

    @Test
    void shouldUnmapTheOldServersFileAfterReconnecting() throws Exception
    {
        for (int run = 0; run < 3; run++)
        {
            server.close();
            server = null;
            await(() -> !client.isConnected());
            server = KeyServer.start(config(), counters);
            await(client::isConnected);
            assertThat(client.getChain("ec").get(5, TimeUnit.SECONDS).name()).isEqualTo("ec");
        }
        // one mapping by the running server, one by the client: none left over from the three earlier runs
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (mappingsOf(shm) != 2 && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertThat(mappingsOf(shm)).isEqualTo(2);
    }

    private static long mappingsOf(final Path dir)
    {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps")))
        {
            final String prefix = dir.toAbsolutePath() + "/";
            return lines.filter(l -> l.contains(prefix)).count();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Test
    void shouldPickUpImportsWithoutRestart() throws Exception
    {
        assertStatus(client.getChain("late"), Status.UNKNOWN_NAME);
        final TestPki.Issued late = pki.server(root, "ipc-late", "ec:P-384", "late.ipc.test");
        Imports.importCertificate(keys, masterKey, "late", late, root.cert());
        await(() -> client.getChain("late").handle((c, e) -> c != null).join());
        final CertificateChain chain = client.getChain("late").get(5, TimeUnit.SECONDS);
        assertThat(client.sign(chain.keyId(), SignatureScheme.ECDSA_SECP384R1_SHA384.code(), new byte[3]).get(5, TimeUnit.SECONDS))
            .isNotEmpty();
    }

    @Test
    void shouldReportWhyAListenerIsNotReady() throws Exception
    {
        final KeylessTlsContexts unknown = new KeylessTlsContexts(client,
            new KeylessTlsContexts.Spec(List.of("ec", "nope"), TlsPolicy.TLS_1_2_STRICT_WITH_1_3, true, null), counters);
        assertThat(unknown.load()).isFalse();
        assertThat(unknown.readiness()).isEqualTo("certificate nope: unknown certificate name: nope");

        final KeylessTlsContexts notCa = new KeylessTlsContexts(client,
            new KeylessTlsContexts.Spec(List.of("ec"), TlsPolicy.TLS_1_2_STRICT_WITH_1_3, true, "rsa"), counters);
        assertThat(notCa.load()).isFalse();
        assertThat(notCa.readiness()).contains("is a server certificate, not a CA");

        final KeylessTlsContexts good = new KeylessTlsContexts(client,
            new KeylessTlsContexts.Spec(List.of("ec", "rsa"), TlsPolicy.TLS_1_2_STRICT_WITH_1_3, true, null), counters);
        server.close();
        server = null;
        await(() -> !client.isConnected());
        assertThat(good.load()).isFalse();
        assertThat(good.readiness()).startsWith("certificate ec: key server down");
        server = KeyServer.start(config(), counters);
        await(client::isConnected);
        assertThat(good.load()).isTrue();
        assertThat(good.isReady()).isTrue();
    }

    @Test
    void shouldServeTheSameTicketKeysFromTheSameSecret() throws Exception
    {
        final TicketKeysCodec.TicketKeys first = client.ticketKeys().get(5, TimeUnit.SECONDS);
        assertThat(first.keys()).hasSize(3);
        server.close();
        server = KeyServer.start(config(), counters);
        await(() -> client.isConnected() && client.ticketKeys().handle((k, e) -> k != null).join());
        final TicketKeysCodec.TicketKeys second = client.ticketKeys().get(5, TimeUnit.SECONDS);
        assertThat(second.keys().getFirst()).isEqualTo(first.keys().getFirst());

        // a provisioned secret replaces the generated one without a restart
        final Path secret = tmp.resolve("cluster.secret");
        Files.write(secret, "a cluster-wide ticket secret of at least 32 bytes".getBytes(StandardCharsets.US_ASCII));
        final StringWriter out = new StringWriter();
        final CommandLine cli = new CommandLine(new KeyServerCommand());
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("ticket-secret", "--dir", keys.toString(), "--master-key-file", masterKey.toString(),
            "--from", secret.toString())).isZero();
        final byte[] expected = new TicketKeyDeriver(Files.readAllBytes(secret), config().ticketRotationMs())
            .keysAt(System.currentTimeMillis()).getFirst();
        await(() -> java.util.Arrays.equals(client.ticketKeys().join().keys().getFirst(), expected));
    }

    @Test
    void shouldCompleteEveryRoundTripWhenWorkersAndPollerSleepBetweenThem() throws Exception
    {
        client.close();
        server.close();
        // long sleeps on both sides (1 s workers, 500 ms poller): each round trip needs the futex wakes, not timeouts
        final KeyServerConfiguration d = config();
        server = KeyServer.start(new KeyServerConfiguration(keys, shm, masterKey, d.layout(), 2, 50, 10_000, 200, 100,
            d.ticketRotationMs(), "auto"), counters, KeyServer::defaultIdleStrategy, TimeUnit.SECONDS.toNanos(1));
        client = KeyServerClient.start(new KeyServerClient.Configuration(shm, 5000, 1000, 1000, 10_000), counters);
        await(client::isConnected);
        try (RawClient raw = new RawClient(server.shmFile(), 3))
        {
            int clientSlot = -1;
            for (int slot = 0; slot < raw.slot; slot++)
            {
                if (raw.file.getLongVolatile(raw.layout.slotOffset(slot) + KeyServerDescriptor.SLOT_OWNER_OFFSET) != 0)
                {
                    clientSlot = slot;
                }
            }
            assertThat(clientSlot).isNotNegative();
            final ShmSignal requestSignal = raw.layout.requestSignal(raw.file);
            final ShmSignal responseSignal = raw.layout.responseSignal(raw.file, clientSlot);
            // the chain's reply may come from the server's request reader (not one of the two workers the loop waits
            // for), which bumps the word after committing: wait for that bump, or it could land inside the first round
            final int beforeChain = responseSignal.sequence();
            final byte[] keyId = client.getChain("ec").get(5, TimeUnit.SECONDS).keyId();
            await(() -> responseSignal.sequence() != beforeChain);
            final byte[] message = "transcript".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 60; i++)
            {
                // both workers and the client's poller asleep on their futex words before each request
                await(() -> requestSignal.sleepers() == 2 && responseSignal.sleepers() == 1);
                final int sequence = responseSignal.sequence();
                // a blocking get reads its own reply for a while; a derived future (copy) waits for the poller
                final CompletableFuture<byte[]> reply = i % 2 == 0 ? client.ping(new byte[] {(byte)i})
                    : client.sign(keyId, SignatureScheme.ECDSA_SECP256R1_SHA256.code(), message);
                final byte[] payload = (i % 4 < 2 ? reply : reply.copy()).get(10, TimeUnit.SECONDS);
                if (i % 2 == 0)
                {
                    assertThat(payload).containsExactly((byte)i);
                }
                else
                {
                    assertThat(payload).isNotEmpty();
                }
                // the worker commits the reply, then bumps the word: a caller reading its own reply may see the record
                // before the bump. The reply must have signalled the poller's word; how often is not fixed (a blocked
                // caller that leaves a record behind bumps it again to hand the rest to the poller)
                await(() -> responseSignal.sequence() != sequence);
            }
        }
    }

    @Test
    void shouldCompleteEveryReplyAtItsOwnRequestWhicheverCallerReadsIt() throws Exception
    {
        // callers that block on their replies read the response ring themselves and complete whatever they find there,
        // other callers' asynchronous replies included (their callbacks then run on the blocked caller's thread): each
        // reply must still land at the future of the request it answers, exactly once
        final CertificateChain ecChain = client.getChain("ec").get(5, TimeUnit.SECONDS);
        final PublicKey ecKey = ecChain.certificates().getFirst().getPublicKey();
        final int threads = 4;
        final int requestsPerRound = 150;
        final Set<String> callerNames = ConcurrentHashMap.newKeySet();
        final ConcurrentHashMap<String, byte[]> asyncReplies = new ConcurrentHashMap<>();
        final AtomicInteger callbacksOnAnotherCaller = new AtomicInteger();
        final AtomicInteger callbacksRunTwice = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final List<CompletableFuture<?>> asyncDone = new ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int round = 0;
        int asyncSent = 0;
        // rounds until some callback ran on a caller other than its own (the case under test), within a bound
        while (round < 3 || callbacksOnAnotherCaller.get() == 0 && round < 30 && System.nanoTime() < deadline)
        {
            final int r = round++;
            final List<Thread> callers = new ArrayList<>();
            final List<CompletableFuture<?>> roundAsync = Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++)
            {
                final int caller = t;
                final Thread thread = new Thread(() ->
                {
                    try
                    {
                        for (int i = 0; i < requestsPerRound; i++)
                        {
                            final String id = r + ":" + caller + ":" + i;
                            final byte[] request = id.getBytes(StandardCharsets.US_ASCII);
                            final boolean sign = i % 5 == 4;
                            final CompletableFuture<byte[]> reply = sign
                                ? client.sign(ecChain.keyId(), SignatureScheme.ECDSA_SECP256R1_SHA256.code(), request)
                                : client.ping(request);
                            if ((i + caller) % 2 == 0)
                            {
                                // asynchronous, as the proxy's private-key method: a callback, nobody blocks on it
                                roundAsync.add(reply.whenComplete((bytes, error) ->
                                {
                                    final String on = Thread.currentThread().getName();
                                    if (callerNames.contains(on) && !on.equals("caller-" + r + "-" + caller))
                                    {
                                        callbacksOnAnotherCaller.incrementAndGet();
                                    }
                                    if (error != null)
                                    {
                                        failure.compareAndSet(null, new AssertionError(id + " failed", error));
                                    }
                                    else if (asyncReplies.putIfAbsent(id, bytes) != null)
                                    {
                                        callbacksRunTwice.incrementAndGet();
                                    }
                                }));
                            }
                            else
                            {
                                final byte[] bytes = i % 4 < 2 ? reply.get(10, TimeUnit.SECONDS) : reply.join();
                                assertReplyAnswers(id, sign, request, bytes, ecKey);
                            }
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                }, "caller-" + r + "-" + caller);
                callerNames.add(thread.getName());
                callers.add(thread);
            }
            callers.forEach(Thread::start);
            for (final Thread thread : callers)
            {
                thread.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(thread.isAlive()).as("caller %s finished", thread.getName()).isFalse();
            }
            asyncDone.addAll(roundAsync);
            asyncSent += roundAsync.size();
            assertThat(failure.get()).isNull();
        }
        CompletableFuture.allOf(asyncDone.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        assertThat(failure.get()).isNull();
        assertThat(callbacksRunTwice.get()).isZero();
        assertThat(asyncReplies).hasSize(asyncSent);
        for (final Map.Entry<String, byte[]> e : asyncReplies.entrySet())
        {
            final String id = e.getKey();
            final byte[] request = id.getBytes(StandardCharsets.US_ASCII);
            assertReplyAnswers(id, Integer.parseInt(id.substring(id.lastIndexOf(':') + 1)) % 5 == 4, request, e.getValue(), ecKey);
        }
        assertThat(callbacksOnAnotherCaller.get()).as("asynchronous replies completed by another blocked caller").isPositive();
        assertThat(counter(KeyServerCounter.CLIENT_TIMEOUTS)).isZero();
    }

    /** A ping's reply echoes its own request; a signature verifies over its own request's message. */
    private static void assertReplyAnswers(final String id, final boolean sign, final byte[] request, final byte[] reply,
        final PublicKey key) throws Exception
    {
        if (sign)
        {
            final Signature v = Signature.getInstance("SHA256withECDSA");
            v.initVerify(key);
            v.update(request);
            assertThat(v.verify(reply)).as("signature for %s", id).isTrue();
        }
        else
        {
            assertThat(new String(reply, StandardCharsets.US_ASCII)).as("echo for %s", id).isEqualTo(id);
        }
    }

    private long counter(final KeyServerCounter type)
    {
        final long[] sum = {0};
        counters.forEach((id, typeId, key, label) ->
        {
            if (typeId == type.typeId())
            {
                sum[0] += counters.getCounterValue(id);
            }
        });
        return sum[0];
    }

    private static void assertStatus(final CompletableFuture<?> future, final int status)
    {
        assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(KeyServerException.class)
            .satisfies(e -> assertThat(((KeyServerException)e).status()).isEqualTo(status));
    }

    static void await(final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(10);
        }
    }

    /** Speaks the wire format by hand, to send what a well-behaved client never would. */
    static final class RawClient implements AutoCloseable
    {
        final UnsafeBuffer file;
        final MappedByteBuffer mapped;
        final KeyServerDescriptor.Layout layout;
        final ManyToOneRingBuffer requests;
        final ManyToOneRingBuffer responses;
        final int slot;
        final int slotOffset;
        final long token = 0x5151L;

        RawClient(final Path path, final int slot) throws IOException
        {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE))
            {
                mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
            }
            file = new UnsafeBuffer(mapped);
            layout = KeyServerDescriptor.check(file, file.capacity());
            this.slot = slot;
            slotOffset = layout.slotOffset(slot);
            assertThat(file.compareAndSetLong(slotOffset + KeyServerDescriptor.SLOT_OWNER_OFFSET, 0, token)).isTrue();
            file.putLong(slotOffset + KeyServerDescriptor.SLOT_PID_OFFSET, ProcessHandle.current().pid());
            file.putLongVolatile(slotOffset + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET, System.currentTimeMillis() + 60_000);
            requests = new ManyToOneRingBuffer(layout.requestRing(file));
            responses = new ManyToOneRingBuffer(layout.responseRing(file, slot));
        }

        void send(final int op, final long correlationId, final byte[] payload, final int declaredLength)
        {
            final UnsafeBuffer msg = new UnsafeBuffer(new byte[RequestFlyweight.HEADER_LENGTH + payload.length]);
            new RequestFlyweight().wrap(msg, 0).correlationId(correlationId).clientSlot(slot).param(0).keyId(null)
                .payloadLength(declaredLength).slotToken(token);
            msg.putBytes(RequestFlyweight.HEADER_LENGTH, payload);
            assertThat(requests.write(op, msg, 0, msg.capacity())).isTrue();
        }

        int awaitStatus(final long correlationId) throws InterruptedException
        {
            final int[] status = {-1};
            final ResponseFlyweight r = new ResponseFlyweight();
            await(() ->
            {
                responses.read((type, buffer, index, length) ->
                {
                    r.wrap(buffer, index);
                    if (r.correlationId() == correlationId)
                    {
                        status[0] = r.status();
                    }
                });
                return status[0] >= 0;
            });
            return status[0];
        }

        @Override
        public void close()
        {
            file.putLongVolatile(slotOffset + KeyServerDescriptor.SLOT_HEARTBEAT_OFFSET, 0);
        }
    }
}
