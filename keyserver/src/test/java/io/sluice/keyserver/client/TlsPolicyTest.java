package io.sluice.keyserver.client;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;

import javax.net.ssl.SSLEngine;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslX509KeyManagerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.sluice.keyserver.TestPki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TlsPolicyTest
{
    @TempDir
    static Path tmp;
    static X509Certificate cert;

    @BeforeAll
    static void cert() throws Exception
    {
        final TestPki pki = new TestPki(tmp);
        final TestPki.Issued root = pki.ca("policy-root", "ec:P-256");
        final TestPki.Issued leaf = pki.server(root, "policy-leaf", "rsa:2048", "policy.test");
        cert = (X509Certificate)CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(leaf.cert())));
    }

    @ParameterizedTest
    @EnumSource(TlsPolicy.class)
    void shouldEnableExactlyThePolicysProtocolsInBoringSsl(final TlsPolicy policy) throws Exception
    {
        final SslContext ctx = SslContextBuilder.forServer(OpenSslX509KeyManagerFactory.newKeyless(cert))
            .sslProvider(SslProvider.OPENSSL)
            .protocols(policy.protocols())
            .ciphers(policy.ciphers())
            .option(OpenSslContextOption.ASYNC_PRIVATE_KEY_METHOD, new KeyServerPrivateKeyMethod(null, new byte[32], null))
            .build();
        final SSLEngine engine = ctx.newEngine(ByteBufAllocator.DEFAULT);
        try
        {
            // Netty always lists the SSLv2Hello pseudo-protocol (it names a ClientHello format, BoringSSL speaks no SSLv2)
            assertThat(Arrays.stream(engine.getEnabledProtocols()).filter(p -> !p.equals("SSLv2Hello")))
                .containsExactlyInAnyOrderElementsOf(policy.protocols());
            final List<String> suites = Arrays.asList(engine.getEnabledCipherSuites());
            assertThat(suites).isNotEmpty();
            if (policy == TlsPolicy.TLS_1_2_STRICT || policy == TlsPolicy.TLS_1_2_STRICT_WITH_1_3)
            {
                // forward secrecy and AEAD only: every TLS 1.2 suite is ECDHE with GCM or ChaCha20
                assertThat(suites.stream().filter(s -> !s.startsWith("TLS_AES") && !s.startsWith("TLS_CHACHA20")))
                    .allMatch(s -> s.startsWith("TLS_ECDHE_") && (s.contains("GCM") || s.contains("CHACHA20")));
            }
            else
            {
                assertThat(suites).contains("TLS_RSA_WITH_AES_128_GCM_SHA256");
            }
        }
        finally
        {
            ReferenceCountUtil.release(engine);
            ReferenceCountUtil.release(ctx);
        }
    }

    @Test
    void shouldNameTheAllowedPoliciesForAnUnknownOne()
    {
        assertThat(TlsPolicy.fromConfigName("tls_1_2_strict_with_1_3")).isEqualTo(TlsPolicy.TLS_1_2_STRICT_WITH_1_3);
        assertThatThrownBy(() -> TlsPolicy.fromConfigName("tls_1_3")).hasMessageContaining("tls_1_3 is not one of tls_1_0");
    }
}
