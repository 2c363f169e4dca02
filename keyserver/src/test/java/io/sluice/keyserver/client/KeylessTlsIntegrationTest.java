package io.sluice.keyserver.client;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.net.ssl.SSLEngine;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.util.ReferenceCountUtil;
import io.sluice.counters.CountersFile;
import io.sluice.keyserver.ChildKeyServer;
import io.sluice.keyserver.TestNetns;
import io.sluice.keyserver.TestPki;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole keyless path: a real key server child JVM holds the keys; this JVM runs a Netty TLS server whose
 * BoringSSL contexts carry no private key, and openssl s_client / curl handshake against it. The test JVM never reads
 * a private key until after the heap dump that proves it holds none.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KeylessTlsIntegrationTest
{
    @TempDir
    static Path tmp;
    static TestPki pki;
    static TestPki.Issued root;
    static TestPki.Issued rsa;
    static TestPki.Issued ec;
    static TestPki.Issued clientGood;
    static TestPki.Issued clientWrong;
    static Path keys;
    static Path shm;
    static Path masterKey;
    static ChildKeyServer keyServer;
    static KeyServerClient client;
    static TestNetns netns;
    static EventLoopGroup group;
    static final List<Channel> SERVERS = new ArrayList<>();
    static int strictPort;
    static int strictPort2;
    static int legacyPort;
    static int mtlsPort;
    static int tls10Port;

    @BeforeAll
    static void setUp() throws Exception
    {
        pki = new TestPki(Files.createDirectories(tmp.resolve("pki")));
        root = pki.ca("tls-root", "rsa:2048");
        rsa = pki.server(root, "rsa-leaf", "rsa:2048", "rsa.example.test");
        ec = pki.server(root, "ec-leaf", "ec:P-256", "ec.example.test", "*.ec.example.test");
        final TestPki.Issued clientCa = pki.ca("clients-ca", "ec:P-256");
        final TestPki.Issued otherCa = pki.ca("other-ca", "ec:P-256");
        clientGood = pki.issue(clientCa, "client-good", "ec:P-256", "basicConstraints=CA:FALSE", "extendedKeyUsage=clientAuth");
        clientWrong = pki.issue(otherCa, "client-wrong", "ec:P-256", "basicConstraints=CA:FALSE", "extendedKeyUsage=clientAuth");

        keys = tmp.resolve("keys");
        shm = tmp.resolve("shm");
        masterKey = tmp.resolve("secrets/master.key");
        importOk("--name", "rsa", "--cert", rsa.cert().toString(), "--key", rsa.key().toString(), "--chain", root.cert().toString());
        importOk("--name", "ec", "--cert", ec.cert().toString(), "--key", ec.key().toString(), "--chain", root.cert().toString());
        importOk("--ca", "--name", "clients-ca", "--cert", clientCa.cert().toString());

        keyServer = ChildKeyServer.start(keys, shm, masterKey, tmp);
        keyServer.awaitReady(shm);
        final CountersManager counters = new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
        client = KeyServerClient.start(KeyServerClient.Configuration.defaults(shm), counters);
        await(client::isConnected);

        netns = TestNetns.create("tls");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        strictPort = listen(contexts(counters, TlsPolicy.TLS_1_2_STRICT_WITH_1_3, null));
        strictPort2 = listen(contexts(counters, TlsPolicy.TLS_1_2_STRICT_WITH_1_3, null));
        legacyPort = listen(contexts(counters, TlsPolicy.TLS_1_2, null));
        mtlsPort = listen(contexts(counters, TlsPolicy.TLS_1_2_STRICT_WITH_1_3, "clients-ca"));
        tls10Port = listen(contexts(counters, TlsPolicy.TLS_1_0, null));
    }

    @AfterAll
    static void tearDown() throws Exception
    {
        for (final Channel c : SERVERS)
        {
            c.close().syncUninterruptibly();
        }
        if (group != null)
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (client != null)
        {
            client.close();
        }
        if (keyServer != null)
        {
            keyServer.close();
        }
        if (netns != null)
        {
            netns.close();
        }
    }

    private static void importOk(final String... args) throws Exception
    {
        final List<String> all = new ArrayList<>(List.of("--dir", keys.toString(), "--master-key-file", masterKey.toString()));
        all.addAll(List.of(args));
        final ChildKeyServer.Result r = ChildKeyServer.runImport(tmp, all.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    private static KeylessTlsContexts contexts(final CountersManager counters, final TlsPolicy policy, final String ca)
    {
        final KeylessTlsContexts c = new KeylessTlsContexts(client, new KeylessTlsContexts.Spec(List.of("rsa", "ec"), policy, true, ca),
            counters);
        assertThat(c.load()).as(c.readiness()).isTrue();
        return c;
    }

    private static int listen(final KeylessTlsContexts contexts) throws Exception
    {
        // the listening socket is created by the calling thread, so create it from inside the test's namespace
        final Channel ch = netns.call(() -> new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    contexts.addTo(ch.pipeline());
                    ch.pipeline().addLast(new AlpnSwitch());
                }
            })
            .bind(new InetSocketAddress(TestNetns.ADDRESS_V4, 0)).sync().channel());
        SERVERS.add(ch);
        return ((InetSocketAddress)ch.localAddress()).getPort();
    }

    /** What a listener does after the TLS stage: pick HTTP/2 or HTTP/1.1 by the ALPN result. */
    private static final class AlpnSwitch extends ApplicationProtocolNegotiationHandler
    {
        AlpnSwitch()
        {
            super(ApplicationProtocolNames.HTTP_1_1);
        }

        @Override
        protected void configurePipeline(final ChannelHandlerContext ctx, final String protocol)
        {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol))
            {
                ctx.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new H2Responder());
            }
            else
            {
                ctx.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new Responder());
            }
        }
    }

    /** HTTP/2: answers each request stream with the TLS protocol and "h2". */
    private static final class H2Responder extends ChannelDuplexHandler
    {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            if (msg instanceof Http2HeadersFrame headers && headers.isEndStream())
            {
                final String body = "hello " + ctx.pipeline().get(SslHandler.class).engine().getSession().getProtocol() + " h2\n";
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(headers.stream()));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII), true)
                    .stream(headers.stream()));
            }
            ReferenceCountUtil.release(msg);
        }
    }

    /** Answers every request with the SNI name and protocol it was served under. */
    private static final class Responder extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest msg)
        {
            final SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            final SSLEngine engine = ssl.engine();
            final String body = "hello " + engine.getSession().getProtocol() + "\n";
            final DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII));
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length());
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            ctx.close();
        }
    }

    @Test
    @Order(1)
    void shouldHandshakeRsaAndEcdsaOverTls12And13WithOpensslPickingCertificateBySni() throws Exception
    {
        for (final String version : List.of("-tls1_2", "-tls1_3"))
        {
            final Output r = sClient(strictPort, "rsa.example.test", version);
            assertThat(r.exitCode()).as(r.text()).isZero();
            assertThat(r.text()).contains("Verification: OK", "Peer certificate: CN = rsa-leaf", "Signature type: RSA-PSS",
                "Protocol version: " + (version.equals("-tls1_2") ? "TLSv1.2" : "TLSv1.3"));

            final Output e = sClient(strictPort, "www.ec.example.test", version);
            assertThat(e.exitCode()).as(e.text()).isZero();
            assertThat(e.text()).contains("Verification: OK", "Peer certificate: CN = ec-leaf", "Signature type: ECDSA");
        }
    }

    @Test
    @Order(2)
    void shouldServeHttpOverCurlForBothKeyTypesAndBothVersions() throws Exception
    {
        for (final String host : List.of("rsa.example.test", "ec.example.test"))
        {
            for (final String[] version : List.of(new String[] {"--tlsv1.2", "--tls-max", "1.2"}, new String[] {"--tlsv1.3"}))
            {
                final List<String> cmd = new ArrayList<>(curl(strictPort, host));
                cmd.addAll(List.of(version));
                final Output r = run(cmd);
                assertThat(r.exitCode()).as(r.text()).isZero();
                assertThat(r.text()).contains(version.length == 1 ? "hello TLSv1.3" : "hello TLSv1.2");
            }
        }
    }

    @Test
    @Order(3)
    void shouldNegotiateH2WithAlpn() throws Exception
    {
        final Output r = sClientFull(strictPort, "ec.example.test", "-tls1_3", "-alpn", "h2,http/1.1");
        assertThat(r.text()).contains("ALPN protocol: h2");
    }

    @Test
    @Order(3)
    void shouldServeH2OverCurlWhenAlpnPicksIt() throws Exception
    {
        final List<String> cmd = new ArrayList<>(curl(strictPort, "ec.example.test"));
        cmd.set(cmd.indexOf("--http1.1"), "--http2");
        final Output r = run(cmd);
        assertThat(r.exitCode()).as(r.text()).isZero();
        assertThat(r.text()).contains("hello TLSv1.3 h2");
    }

    @Test
    @Order(4)
    void shouldDecryptRsaKeyExchangeThroughTheKeyServerUnderTls12Policy() throws Exception
    {
        final Output r = sClient(legacyPort, "rsa.example.test", "-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(r.exitCode()).as(r.text()).isZero();
        assertThat(r.text()).contains("Ciphersuite: AES128-GCM-SHA256", "Verification: OK");
        final Output refused = sClient(strictPort, "rsa.example.test", "-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(refused.exitCode()).isNotZero();
    }

    @Test
    @Order(4)
    void shouldSignTls10HandshakesWithMd5Sha1AndEcdsaSha1UnderTls10Policy() throws Exception
    {
        // Debian's OpenSSL refuses TLS 1.0 at its default security level; the listener allows it by policy
        final Output r = sClient(tls10Port, "rsa.example.test", "-tls1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0");
        assertThat(r.exitCode()).as(r.text()).isZero();
        assertThat(r.text()).contains("Protocol version: TLSv1\n", "Peer certificate: CN = rsa-leaf", "Verification: OK");
        final Output e = sClient(tls10Port, "ec.example.test", "-tls1", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0");
        assertThat(e.exitCode()).as(e.text()).isZero();
        assertThat(e.text()).contains("Protocol version: TLSv1\n", "Peer certificate: CN = ec-leaf", "Verification: OK");
        final Output refused = sClient(strictPort, "rsa.example.test", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0");
        assertThat(refused.exitCode()).isNotZero();
    }

    @Test
    @Order(5)
    void shouldAcceptGoodClientCertificateAndRefuseMissingOrWrongOne() throws Exception
    {
        final List<String> good = new ArrayList<>(curl(mtlsPort, "ec.example.test"));
        good.addAll(List.of("--cert", clientGood.cert().toString(), "--key", clientGood.key().toString()));
        final Output ok = run(good);
        assertThat(ok.exitCode()).as(ok.text()).isZero();
        assertThat(ok.text()).contains("hello TLSv1.3");

        final Output missing = run(curl(mtlsPort, "ec.example.test"));
        assertThat(missing.exitCode()).as(missing.text()).isNotZero();
        assertThat(missing.text()).doesNotContain("hello");

        final List<String> wrong = new ArrayList<>(curl(mtlsPort, "ec.example.test"));
        wrong.addAll(List.of("--cert", clientWrong.cert().toString(), "--key", clientWrong.key().toString()));
        final Output refused = run(wrong);
        assertThat(refused.exitCode()).as(refused.text()).isNotZero();
        assertThat(refused.text()).doesNotContain("hello");
    }

    @Test
    @Order(6)
    void shouldResumeOnAnotherListenerWithTheKeyServersTicketKeys() throws Exception
    {
        final Path session = tmp.resolve("session.pem");
        final Output first = sClientFull(strictPort, "ec.example.test", "-tls1_2", "-sess_out", session.toString());
        assertThat(first.exitCode()).as(first.text()).isZero();
        assertThat(first.text()).contains("New, TLSv1.2");
        // another listener (another node in production): same ticket keys because the same key server secret
        final Output second = sClientFull(strictPort2, "ec.example.test", "-tls1_2", "-sess_in", session.toString());
        assertThat(second.exitCode()).as(second.text()).isZero();
        assertThat(second.text()).contains("Reused, TLSv1.2");
    }

    @Test
    @Order(6)
    void shouldResumeTls13OnAnotherListenerWithATicketSealedUnderTheKeyServersTicketKeys() throws Exception
    {
        final Path session = tmp.resolve("session13.pem");
        final Path request = tmp.resolve("request.txt");
        // the responder closes after its answer, so s_client (-ign_eof) reads everything the server sent, tickets included
        Files.writeString(request, "GET / HTTP/1.1\r\nHost: ec.example.test\r\n\r\n");
        final Output first = runWithInput(request, sClientCommand(strictPort, "ec.example.test", "-tls1_3", "-alpn", "http/1.1",
            "-msg", "-ign_eof", "-sess_out", session.toString()));
        assertThat(first.exitCode()).as(first.text()).isZero();
        assertThat(first.text()).contains("hello TLSv1.3");
        assertThat(first.text()).contains("NewSessionTicket");
        final Output second = sClientFull(strictPort2, "ec.example.test", "-tls1_3", "-sess_in", session.toString());
        assertThat(second.exitCode()).as(second.text()).isZero();
        assertThat(second.text()).contains("Reused, TLSv1.3");
    }

    @Test
    @Order(6)
    void shouldExposeKeyServerCountersToAnotherProcess() throws Exception
    {
        final Map<String, Long> values = new HashMap<>();
        try (CountersFile file = CountersFile.openForReading(shm.resolve(CountersFile.FILE_NAME)))
        {
            assertThat(file.nodeName()).isEqualTo("keyserver");
            assertThat(file.ownerPid()).isEqualTo(keyServer.pid());
            file.reader().forEach((id, typeId, key, label) -> values.put(label, file.reader().getCounterValue(id)));
        }
        assertThat(values.get("keyserver.ops.sign")).isPositive();
        assertThat(values.get("keyserver.ops.decrypt")).isPositive();
        assertThat(values.get("keyserver.key.ops.rsa")).isPositive();
        assertThat(values.get("keyserver.key.ops.ec")).isPositive();
        assertThat(values.get("keyserver.clients.connected")).isEqualTo(1);
    }

    @Test
    @Order(6)
    void shouldRefuseASecondKeyServerOnTheSameSharedMemory() throws Exception
    {
        try (ChildKeyServer second = ChildKeyServer.start(keys, shm, masterKey, tmp))
        {
            assertThat(second.awaitExit()).isNotZero();
            assertThat(second.log()).contains("another key server (pid " + keyServer.pid() + ") is serving");
        }
        try (ChildKeyServer noMasterKey = ChildKeyServer.start(keys, tmp.resolve("shm-other"), tmp.resolve("absent.key"), tmp))
        {
            assertThat(noMasterKey.awaitExit()).isEqualTo(1);
            assertThat(noMasterKey.log()).startsWith("keyserver: master key file " + tmp.resolve("absent.key") + " does not exist");
        }
        assertThat(client.isConnected()).isTrue();
        assertThat(sClient(strictPort, "ec.example.test", "-tls1_3").exitCode()).isZero();
    }

    @Test
    @Order(7)
    void shouldFailHandshakesWithAnAlertWhenTheKeyServerDiesAndRecoverWhenItReturns() throws Exception
    {
        assertThat(sClient(strictPort, "rsa.example.test", "-tls1_3").exitCode()).isZero();
        final long killedAt = System.nanoTime();
        keyServer.kill();
        final Output failed = sClient(strictPort, "rsa.example.test", "-tls1_3");
        final long failedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        assertThat(failed.exitCode()).isNotZero();
        assertThat(failed.text()).contains("alert");
        await(() -> !client.isConnected());
        final long detectedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        // measured, not asserted (no timing asserts): the report quotes these
        Files.writeString(Path.of("target", "keyserver-failover.txt"), "handshake failed " + failedAfterMs
            + " ms after SIGKILL; client saw the server dead within " + detectedAfterMs + " ms\n" + failed.text());

        final Output whileDown = sClient(strictPort, "ec.example.test", "-tls1_2");
        assertThat(whileDown.exitCode()).isNotZero();
        assertThat(whileDown.text()).contains("alert");

        keyServer = ChildKeyServer.start(keys, shm, masterKey, tmp);
        keyServer.awaitReady(shm);
        await(client::isConnected);
        final Output back = sClient(strictPort, "rsa.example.test", "-tls1_3");
        assertThat(back.exitCode()).as(back.text()).isZero();
        assertThat(back.text()).contains("Verification: OK");
    }

    @Test
    @Order(8)
    void shouldHoldNoPrivateKeyBytesInTheProxyHeap() throws Exception
    {
        assertThat(sClient(strictPort, "ec.example.test", "-tls1_3").exitCode()).isZero();
        assertThat(sClient(strictPort, "rsa.example.test", "-tls1_2").exitCode()).isZero();
        final Path dump = tmp.resolve("proxy.hprof");
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpHeap(dump.toString(), false);

        // only now read the keys, to know what to look for
        final List<byte[]> secrets = new ArrayList<>();
        final RSAPrivateCrtKey rsaKey = (RSAPrivateCrtKey)KeyFactory.getInstance("RSA").generatePrivate(pkcs8(rsa.key()));
        secrets.add(unsigned(rsaKey.getPrimeP().toByteArray()));
        secrets.add(unsigned(rsaKey.getPrivateExponent().toByteArray()));
        final ECPrivateKey ecKey = (ECPrivateKey)KeyFactory.getInstance("EC").generatePrivate(pkcs8(ec.key()));
        secrets.add(unsigned(ecKey.getS().toByteArray()));
        secrets.add(pkcs8(rsa.key()).getEncoded());
        secrets.add(Files.readAllLines(rsa.key()).get(1).getBytes(StandardCharsets.US_ASCII));
        secrets.add(Files.readAllLines(ec.key()).get(1).getBytes(StandardCharsets.US_ASCII));

        try (FileChannel ch = FileChannel.open(dump, StandardOpenOption.READ))
        {
            final MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            assertThat(ch.size()).isGreaterThan(1 << 20);
            for (final byte[] secret : secrets)
            {
                assertThat(indexOf(map, secret)).as("private key bytes (%d long) found in the proxy heap", secret.length).isNegative();
            }
            // the scanner does find what is there: the public certificate is in the heap
            final byte[] certLine = Files.readAllLines(rsa.cert()).get(5).getBytes(StandardCharsets.US_ASCII);
            assertThat(indexOf(map, Base64.getDecoder().decode(new String(certLine, StandardCharsets.US_ASCII).substring(0, 60))))
                .isNotNegative();
        }
        finally
        {
            Files.deleteIfExists(dump);
        }
    }

    private static PKCS8EncodedKeySpec pkcs8(final Path pem) throws IOException
    {
        final String body = Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body));
    }

    private static byte[] unsigned(final byte[] twosComplement)
    {
        return twosComplement[0] == 0 ? java.util.Arrays.copyOfRange(twosComplement, 1, twosComplement.length) : twosComplement;
    }

    private static long indexOf(final MappedByteBuffer map, final byte[] needle)
    {
        final long limit = map.capacity() - needle.length;
        final byte first = needle[0];
        outer:
        for (int i = 0; i <= limit; i++)
        {
            if (map.get(i) != first)
            {
                continue;
            }
            for (int j = 1; j < needle.length; j++)
            {
                if (map.get(i + j) != needle[j])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private record Output(int exitCode, String text)
    {
    }

    private static Output sClient(final int port, final String sni, final String... extra) throws Exception
    {
        final List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-brief", "-connect", TestNetns.ADDRESS_V4 + ":" + port,
            "-servername", sni, "-CAfile", root.cert().toString(), "-verify_return_error"));
        cmd.addAll(List.of(extra));
        return run(cmd);
    }

    private static Output sClientFull(final int port, final String sni, final String... extra) throws Exception
    {
        return run(sClientCommand(port, sni, extra));
    }

    private static List<String> sClientCommand(final int port, final String sni, final String... extra)
    {
        final List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", TestNetns.ADDRESS_V4 + ":" + port,
            "-servername", sni, "-CAfile", root.cert().toString(), "-verify_return_error"));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    private static List<String> curl(final int port, final String host)
    {
        return List.of("curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", root.cert().toString(),
            "--resolve", host + ":" + port + ":" + TestNetns.ADDRESS_V4, "https://" + host + ":" + port + "/");
    }

    private static Output run(final List<String> cmd) throws Exception
    {
        return runWithInput(Path.of("/dev/null"), cmd);
    }

    private static Output runWithInput(final Path input, final List<String> cmd) throws Exception
    {
        final Process p = new ProcessBuilder(netns.exec(cmd)).redirectErrorStream(true).redirectInput(input.toFile()).start();
        final byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish");
        }
        return new Output(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static void await(final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within 30 s");
            }
            Thread.sleep(10);
        }
    }
}
