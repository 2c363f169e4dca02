package io.sluice.nativeio.crypto;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import javax.crypto.Cipher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrivateKeyCryptoTest
{
    private static final KeyPair RSA_2048 = generate("RSA", 2048);
    private static final KeyPair EC_256 = generateEc("secp256r1");
    private static final KeyPair EC_384 = generateEc("secp384r1");
    private static final KeyPair EC_521 = generateEc("secp521r1");
    private static final KeyPair ED_25519 = generate("Ed25519", 0);
    private static final byte[] MESSAGE = "a TLS 1.3 CertificateVerify context, 64 spaces and a transcript hash"
        .getBytes(StandardCharsets.US_ASCII);

    static Stream<Arguments> cases()
    {
        final List<Arguments> args = new ArrayList<>();
        for (final PrivateKeyCrypto provider : List.of(new LibCryptoProvider(), new JcaProvider()))
        {
            for (final SignatureScheme scheme : SignatureScheme.values())
            {
                final KeyPair pair = switch (scheme)
                {
                    case ECDSA_SECP384R1_SHA384 -> EC_384;
                    case ECDSA_SECP521R1_SHA512 -> EC_521;
                    case ED25519 -> ED_25519;
                    default -> scheme.keyType() == KeyType.RSA ? RSA_2048 : EC_256;
                };
                args.add(Arguments.of(provider.name(), provider, scheme, pair));
            }
        }
        return args.stream();
    }

    @Test
    void shouldBindLibcryptoOnThisMachine()
    {
        assertThat(LibCrypto.unavailabilityCause()).isNull();
        assertThat(LibCrypto.isAvailable()).isTrue();
        assertThat(CryptoProviders.best().name()).isEqualTo("libcrypto");
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void shouldProduceSignaturesTheJdkVerifies(final String name, final PrivateKeyCrypto provider, final SignatureScheme scheme,
        final KeyPair pair) throws Exception
    {
        try (PrivateKeyCrypto.LoadedKey key = provider.loadPkcs8(pair.getPrivate().getEncoded()))
        {
            assertThat(key.type()).isEqualTo(scheme.keyType());
            final byte[] signature = key.sign(scheme, MESSAGE);
            assertThat(verify(scheme, pair.getPublic(), MESSAGE, signature)).isTrue();
            final byte[] tampered = MESSAGE.clone();
            tampered[0] ^= 1;
            assertThat(verify(scheme, pair.getPublic(), tampered, signature)).isFalse();
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void shouldSignOnlyTheGivenLengthOfAReusedBuffer(final PrivateKeyCrypto provider) throws Exception
    {
        final byte[] buffer = Arrays.copyOf(MESSAGE, MESSAGE.length + 100);
        Arrays.fill(buffer, MESSAGE.length, buffer.length, (byte)0x5a);
        try (PrivateKeyCrypto.LoadedKey key = provider.loadPkcs8(EC_256.getPrivate().getEncoded()))
        {
            final byte[] signature = key.sign(SignatureScheme.ECDSA_SECP256R1_SHA256, buffer, MESSAGE.length);
            assertThat(verify(SignatureScheme.ECDSA_SECP256R1_SHA256, EC_256.getPublic(), MESSAGE, signature)).isTrue();
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void shouldDecryptRsaWithAndWithoutPadding(final PrivateKeyCrypto provider) throws Exception
    {
        final byte[] premaster = new byte[48];
        premaster[0] = 3;
        premaster[1] = 3;
        final Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
        c.init(Cipher.ENCRYPT_MODE, RSA_2048.getPublic());
        final byte[] encrypted = c.doFinal(premaster);
        try (PrivateKeyCrypto.LoadedKey key = provider.loadPkcs8(RSA_2048.getPrivate().getEncoded()))
        {
            assertThat(key.decrypt(encrypted, RsaPadding.PKCS1)).isEqualTo(premaster);
            final byte[] raw = key.decrypt(encrypted, RsaPadding.NONE);
            assertThat(raw).hasSize(256);
            assertThat(raw[0]).isZero();
            assertThat(raw[1]).isEqualTo((byte)2);
            assertThat(Arrays.copyOfRange(raw, 256 - 48, 256)).isEqualTo(premaster);
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void shouldLoadPemAndReportKeySizes(final PrivateKeyCrypto provider)
    {
        try (PrivateKeyCrypto.LoadedKey rsa = provider.loadPem(pem(RSA_2048.getPrivate().getEncoded()));
            PrivateKeyCrypto.LoadedKey ec = provider.loadPem(pem(EC_384.getPrivate().getEncoded()));
            PrivateKeyCrypto.LoadedKey ed = provider.loadPem(pem(ED_25519.getPrivate().getEncoded())))
        {
            assertThat(rsa.bits()).isEqualTo(2048);
            assertThat(ec.bits()).isEqualTo(384);
            assertThat(ed.type()).isEqualTo(KeyType.ED25519);
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void shouldRejectGarbageAndMismatchedSchemes(final PrivateKeyCrypto provider)
    {
        assertThatThrownBy(() -> provider.loadPkcs8(new byte[] {0x30, 0x03, 0x02, 0x01, 0x00})).isInstanceOf(CryptoException.class);
        try (PrivateKeyCrypto.LoadedKey ec = provider.loadPkcs8(EC_256.getPrivate().getEncoded()))
        {
            assertThatThrownBy(() -> ec.sign(SignatureScheme.RSA_PSS_RSAE_SHA256, MESSAGE))
                .isInstanceOf(CryptoException.class).hasMessageContaining("needs a RSA key");
        }
    }

    @Test
    void shouldFailOnAnEncryptedPemInsteadOfPromptingForAPassphrase() throws Exception
    {
        final Path dir = Files.createTempDirectory("pkc");
        try
        {
            final Path plain = dir.resolve("k.pem");
            final Path enc = dir.resolve("k.enc.pem");
            Files.write(plain, pem(EC_256.getPrivate().getEncoded()));
            final Process p = new ProcessBuilder("openssl", "pkey", "-in", plain.toString(), "-aes256", "-passout", "pass:x",
                "-out", enc.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertThat(p.waitFor()).isZero();
            final byte[] encrypted = Files.readAllBytes(enc);
            assertThatThrownBy(() -> new LibCryptoProvider().loadPem(encrypted)).isInstanceOf(CryptoException.class);
        }
        finally
        {
            try (Stream<Path> files = Files.list(dir))
            {
                files.forEach(f -> f.toFile().delete());
            }
            Files.delete(dir);
        }
    }

    static Stream<PrivateKeyCrypto> providers()
    {
        return Stream.of(new LibCryptoProvider(), new JcaProvider());
    }

    private static byte[] pem(final byte[] pkcs8)
    {
        return ("-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pkcs8)
            + "\n-----END PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static boolean verify(final SignatureScheme scheme, final PublicKey key, final byte[] message, final byte[] signature)
        throws Exception
    {
        final Signature s;
        byte[] input = message;
        switch (scheme)
        {
            case RSA_PKCS1_MD5_SHA1 ->
            {
                s = Signature.getInstance("NONEwithRSA");
                final byte[] md5 = MessageDigest.getInstance("MD5").digest(message);
                final byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(message);
                input = Arrays.copyOf(md5, 36);
                System.arraycopy(sha1, 0, input, 16, 20);
            }
            case RSA_PKCS1_SHA1 -> s = Signature.getInstance("SHA1withRSA");
            case RSA_PKCS1_SHA256 -> s = Signature.getInstance("SHA256withRSA");
            case RSA_PKCS1_SHA384 -> s = Signature.getInstance("SHA384withRSA");
            case RSA_PKCS1_SHA512 -> s = Signature.getInstance("SHA512withRSA");
            case RSA_PSS_RSAE_SHA256 -> s = pss("SHA-256", 32);
            case RSA_PSS_RSAE_SHA384 -> s = pss("SHA-384", 48);
            case RSA_PSS_RSAE_SHA512 -> s = pss("SHA-512", 64);
            case ECDSA_SHA1 -> s = Signature.getInstance("SHA1withECDSA");
            case ECDSA_SECP256R1_SHA256 -> s = Signature.getInstance("SHA256withECDSA");
            case ECDSA_SECP384R1_SHA384 -> s = Signature.getInstance("SHA384withECDSA");
            case ECDSA_SECP521R1_SHA512 -> s = Signature.getInstance("SHA512withECDSA");
            case ED25519 -> s = Signature.getInstance("Ed25519");
            default -> throw new IllegalArgumentException(scheme.name());
        }
        s.initVerify(key);
        s.update(input);
        return s.verify(signature);
    }

    private static Signature pss(final String md, final int saltLength) throws Exception
    {
        final Signature s = Signature.getInstance("RSASSA-PSS");
        s.setParameter(new PSSParameterSpec(md, "MGF1", new MGF1ParameterSpec(md), saltLength, 1));
        return s;
    }

    private static KeyPair generate(final String algorithm, final int bits)
    {
        try
        {
            final KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            if (bits > 0)
            {
                g.initialize(bits);
            }
            return g.generateKeyPair();
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static KeyPair generateEc(final String curve)
    {
        try
        {
            final KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
