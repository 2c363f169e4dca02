package io.sluice.nativeio.crypto;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.List;

import javax.crypto.Cipher;

/**
 * The JDK's providers as a fallback when libcrypto.so.3 is absent: same results, several times slower (FACTS.md).
 * PEM input: PKCS#8 "PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" (wrapped into PKCS#8 here).
 */
public final class JcaProvider implements PrivateKeyCrypto
{
    /** AlgorithmIdentifier { rsaEncryption, NULL } in DER, for wrapping a PKCS#1 key into PKCS#8. */
    private static final byte[] RSA_ALGORITHM_ID = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte)0x86, 0x48, (byte)0x86, (byte)0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
    };

    @Override
    public String name()
    {
        return "jca";
    }

    @Override
    public LoadedKey loadPkcs8(final byte[] pkcs8Der)
    {
        final PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(pkcs8Der);
        for (final String algorithm : List.of("RSA", "EC", "Ed25519"))
        {
            try
            {
                final PrivateKey key = KeyFactory.getInstance(algorithm).generatePrivate(spec);
                return new JcaKey(key);
            }
            catch (final GeneralSecurityException | IllegalArgumentException ignored)
            {
                // try the next family; the DER names its algorithm but KeyFactory wants it named up front
            }
        }
        throw new CryptoException("not a PKCS#8 RSA, EC or Ed25519 private key");
    }

    @Override
    public LoadedKey loadPem(final byte[] pem)
    {
        for (final Pem.Block block : Pem.blocks(pem))
        {
            if ("PRIVATE KEY".equals(block.label()))
            {
                return loadPkcs8(block.der());
            }
            if ("RSA PRIVATE KEY".equals(block.label()))
            {
                return loadPkcs8(wrapPkcs1(block.der()));
            }
        }
        throw new CryptoException("no PRIVATE KEY or RSA PRIVATE KEY block (the JCA fallback reads only these)");
    }

    private static byte[] wrapPkcs1(final byte[] pkcs1)
    {
        final byte[] version = {0x02, 0x01, 0x00};
        final byte[] octet = tlv(0x04, pkcs1);
        final byte[] body = new byte[version.length + RSA_ALGORITHM_ID.length + octet.length];
        System.arraycopy(version, 0, body, 0, version.length);
        System.arraycopy(RSA_ALGORITHM_ID, 0, body, version.length, RSA_ALGORITHM_ID.length);
        System.arraycopy(octet, 0, body, version.length + RSA_ALGORITHM_ID.length, octet.length);
        return tlv(0x30, body);
    }

    private static byte[] tlv(final int tag, final byte[] value)
    {
        final int n = value.length;
        final byte[] len;
        if (n < 0x80)
        {
            len = new byte[] {(byte)n};
        }
        else if (n < 0x100)
        {
            len = new byte[] {(byte)0x81, (byte)n};
        }
        else if (n < 0x10000)
        {
            len = new byte[] {(byte)0x82, (byte)(n >> 8), (byte)n};
        }
        else
        {
            len = new byte[] {(byte)0x83, (byte)(n >> 16), (byte)(n >> 8), (byte)n};
        }
        final byte[] out = new byte[1 + len.length + n];
        out[0] = (byte)tag;
        System.arraycopy(len, 0, out, 1, len.length);
        System.arraycopy(value, 0, out, 1 + len.length, n);
        return out;
    }

    private static final class JcaKey implements LoadedKey
    {
        private final PrivateKey key;
        private final KeyType type;
        private final int bits;

        JcaKey(final PrivateKey key)
        {
            this.key = key;
            if (key instanceof RSAPrivateKey rsa)
            {
                type = KeyType.RSA;
                bits = rsa.getModulus().bitLength();
            }
            else if (key instanceof ECPrivateKey ec)
            {
                type = KeyType.EC;
                bits = ec.getParams().getCurve().getField().getFieldSize();
            }
            else
            {
                type = KeyType.ED25519;
                bits = 253;
            }
        }

        @Override
        public KeyType type()
        {
            return type;
        }

        @Override
        public int bits()
        {
            return bits;
        }

        @Override
        public byte[] sign(final SignatureScheme scheme, final byte[] message, final int length)
        {
            if (scheme.keyType() != type)
            {
                throw new CryptoException(scheme + " needs a " + scheme.keyType() + " key, this key is " + type);
            }
            try
            {
                if (scheme == SignatureScheme.RSA_PKCS1_MD5_SHA1)
                {
                    final MessageDigest md5Digest = MessageDigest.getInstance("MD5");
                    md5Digest.update(message, 0, length);
                    final byte[] md5 = md5Digest.digest();
                    final MessageDigest sha1Digest = MessageDigest.getInstance("SHA-1");
                    sha1Digest.update(message, 0, length);
                    final byte[] sha1 = sha1Digest.digest();
                    final byte[] both = Arrays.copyOf(md5, md5.length + sha1.length);
                    System.arraycopy(sha1, 0, both, md5.length, sha1.length);
                    final Signature s = Signature.getInstance("NONEwithRSA");
                    s.initSign(key);
                    s.update(both);
                    return s.sign();
                }
                final Signature s;
                if (scheme.pss())
                {
                    final String md = jcaDigest(scheme.digest());
                    s = Signature.getInstance("RSASSA-PSS");
                    s.setParameter(new PSSParameterSpec(md, "MGF1", new MGF1ParameterSpec(md), digestLength(scheme.digest()), 1));
                }
                else
                {
                    s = Signature.getInstance(switch (type)
                    {
                        case RSA -> jcaDigest(scheme.digest()).replace("-", "") + "withRSA";
                        case EC -> jcaDigest(scheme.digest()).replace("-", "") + "withECDSA";
                        case ED25519 -> "Ed25519";
                    });
                }
                s.initSign(key);
                s.update(message, 0, length);
                return s.sign();
            }
            catch (final GeneralSecurityException ex)
            {
                throw new CryptoException("JCA sign " + scheme + " failed", ex);
            }
        }

        @Override
        public byte[] decrypt(final byte[] input, final int length, final RsaPadding padding)
        {
            if (type != KeyType.RSA)
            {
                throw new CryptoException("decrypt needs an RSA key, this key is " + type);
            }
            try
            {
                final Cipher c = Cipher.getInstance(padding == RsaPadding.NONE ? "RSA/ECB/NoPadding" : "RSA/ECB/PKCS1Padding");
                c.init(Cipher.DECRYPT_MODE, key);
                return c.doFinal(input, 0, length);
            }
            catch (final GeneralSecurityException ex)
            {
                throw new CryptoException("JCA decrypt failed", ex);
            }
        }

        @Override
        public void close()
        {
            // the JDK key lives on the heap until collected; nothing native to free
        }

        private static String jcaDigest(final SignatureScheme.Digest d)
        {
            return switch (d)
            {
                case SHA1 -> "SHA-1";
                case SHA256 -> "SHA-256";
                case SHA384 -> "SHA-384";
                case SHA512 -> "SHA-512";
                default -> throw new CryptoException("no JCA name for digest " + d);
            };
        }

        private static int digestLength(final SignatureScheme.Digest d)
        {
            return switch (d)
            {
                case SHA256 -> 32;
                case SHA384 -> 48;
                case SHA512 -> 64;
                default -> 20;
            };
        }
    }
}
