package io.sluice.nativeio.crypto;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Private-key operations through OpenSSL's libcrypto. An EVP_PKEY is safe to use from many threads for signing
 * (OpenSSL 3 threading rules: the key is only read); each operation builds its own EVP_MD_CTX / EVP_PKEY_CTX.
 */
public final class LibCryptoProvider implements PrivateKeyCrypto
{
    @Override
    public String name()
    {
        return "libcrypto";
    }

    @Override
    public LoadedKey loadPkcs8(final byte[] pkcs8Der)
    {
        LibCrypto.ensureAvailability();
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment der = arena.allocate(pkcs8Der.length);
            MemorySegment.copy(pkcs8Der, 0, der, ValueLayout.JAVA_BYTE, 0, pkcs8Der.length);
            final MemorySegment pp = arena.allocate(ValueLayout.ADDRESS);
            pp.set(ValueLayout.ADDRESS, 0, der);
            final MemorySegment pkey;
            try
            {
                pkey = (MemorySegment)LibCrypto.D2I_AUTO_PRIVATE_KEY.invokeExact(MemorySegment.NULL, pp, (long)pkcs8Der.length);
            }
            finally
            {
                der.fill((byte)0);
            }
            if (pkey.address() == 0)
            {
                throw new CryptoException("d2i_AutoPrivateKey: not a PKCS#8 private key: " + LibCrypto.drainErrors());
            }
            return wrap(pkey);
        }
        catch (final CryptoException ex)
        {
            throw ex;
        }
        catch (final Throwable t)
        {
            throw new CryptoException("libcrypto key parse failed", t);
        }
    }

    @Override
    public LoadedKey loadPem(final byte[] pem)
    {
        LibCrypto.ensureAvailability();
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment text = arena.allocate(pem.length);
            MemorySegment.copy(pem, 0, text, ValueLayout.JAVA_BYTE, 0, pem.length);
            final MemorySegment bio = (MemorySegment)LibCrypto.BIO_NEW_MEM_BUF.invokeExact(text, pem.length);
            if (bio.address() == 0)
            {
                throw new CryptoException("BIO_new_mem_buf failed: " + LibCrypto.drainErrors());
            }
            final MemorySegment pkey;
            try
            {
                // an empty passphrase instead of NULL: with NULL, OpenSSL's default callback would prompt on the
                // terminal for an encrypted key; this way an encrypted key simply fails to load
                final MemorySegment emptyPassphrase = arena.allocate(1);
                pkey = (MemorySegment)LibCrypto.PEM_READ_BIO_PRIVATE_KEY.invokeExact(
                    bio, MemorySegment.NULL, MemorySegment.NULL, emptyPassphrase);
            }
            finally
            {
                final int ignored = (int)LibCrypto.BIO_FREE.invokeExact(bio);
                text.fill((byte)0);
            }
            if (pkey.address() == 0)
            {
                throw new CryptoException("PEM_read_bio_PrivateKey: no unencrypted private key: " + LibCrypto.drainErrors());
            }
            return wrap(pkey);
        }
        catch (final CryptoException ex)
        {
            throw ex;
        }
        catch (final Throwable t)
        {
            throw new CryptoException("libcrypto key parse failed", t);
        }
    }

    private static LoadedKey wrap(final MemorySegment pkey) throws Throwable
    {
        final int id = (int)LibCrypto.EVP_PKEY_GET_BASE_ID.invokeExact(pkey);
        final int bits = (int)LibCrypto.EVP_PKEY_GET_BITS.invokeExact(pkey);
        final int size = (int)LibCrypto.EVP_PKEY_GET_SIZE.invokeExact(pkey);
        final KeyType type = switch (id)
        {
            case LibCrypto.EVP_PKEY_RSA -> KeyType.RSA;
            case LibCrypto.EVP_PKEY_EC -> KeyType.EC;
            case LibCrypto.EVP_PKEY_ED25519 -> KeyType.ED25519;
            default -> null;
        };
        if (type == null)
        {
            LibCrypto.EVP_PKEY_FREE.invokeExact(pkey);
            throw new CryptoException("unsupported key type (EVP_PKEY id " + id + "): only RSA, EC and Ed25519 keys are served");
        }
        return new NativeKey(pkey, type, bits, size);
    }

    private static MemorySegment digest(final SignatureScheme.Digest digest)
    {
        return switch (digest)
        {
            case NONE -> MemorySegment.NULL;
            case MD5_SHA1 -> LibCrypto.EVP_MD5_SHA1;
            case SHA1 -> LibCrypto.EVP_SHA1;
            case SHA256 -> LibCrypto.EVP_SHA256;
            case SHA384 -> LibCrypto.EVP_SHA384;
            case SHA512 -> LibCrypto.EVP_SHA512;
        };
    }

    private static final class NativeKey implements LoadedKey
    {
        private final MemorySegment pkey;
        private final KeyType type;
        private final int bits;
        private final int maxSignatureLength;
        /** Operations in flight + 1 while open: close frees the EVP_PKEY only when the last operation ends. */
        private final AtomicInteger refs = new AtomicInteger(1);
        private final AtomicBoolean closed = new AtomicBoolean();

        NativeKey(final MemorySegment pkey, final KeyType type, final int bits, final int maxSignatureLength)
        {
            this.pkey = pkey;
            this.type = type;
            this.bits = bits;
            this.maxSignatureLength = maxSignatureLength;
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
            acquire();
            try (Arena arena = Arena.ofConfined())
            {
                final MemorySegment md = (MemorySegment)LibCrypto.EVP_MD_CTX_NEW.invokeExact();
                if (md.address() == 0)
                {
                    throw new CryptoException("EVP_MD_CTX_new failed");
                }
                try
                {
                    final MemorySegment pctxOut = arena.allocate(ValueLayout.ADDRESS);
                    final MemorySegment evpMd = digest(scheme.digest());
                    int rc = (int)LibCrypto.EVP_DIGEST_SIGN_INIT.invokeExact(md, pctxOut, evpMd, MemorySegment.NULL, pkey);
                    check(rc, "EVP_DigestSignInit");
                    if (scheme.pss())
                    {
                        final MemorySegment pctx = pctxOut.get(ValueLayout.ADDRESS, 0);
                        rc = (int)LibCrypto.EVP_PKEY_CTX_SET_RSA_PADDING.invokeExact(pctx, LibCrypto.RSA_PKCS1_PSS_PADDING);
                        check(rc, "EVP_PKEY_CTX_set_rsa_padding(PSS)");
                        rc = (int)LibCrypto.EVP_PKEY_CTX_SET_RSA_PSS_SALTLEN.invokeExact(pctx, LibCrypto.RSA_PSS_SALTLEN_DIGEST);
                        check(rc, "EVP_PKEY_CTX_set_rsa_pss_saltlen");
                    }
                    final MemorySegment tbs = arena.allocate(Math.max(1, length));
                    MemorySegment.copy(message, 0, tbs, ValueLayout.JAVA_BYTE, 0, length);
                    final MemorySegment sig = arena.allocate(maxSignatureLength);
                    final MemorySegment sigLen = arena.allocate(ValueLayout.JAVA_LONG);
                    sigLen.set(ValueLayout.JAVA_LONG, 0, maxSignatureLength);
                    rc = (int)LibCrypto.EVP_DIGEST_SIGN.invokeExact(md, sig, sigLen, tbs, (long)length);
                    check(rc, "EVP_DigestSign");
                    return sig.asSlice(0, sigLen.get(ValueLayout.JAVA_LONG, 0)).toArray(ValueLayout.JAVA_BYTE);
                }
                finally
                {
                    LibCrypto.EVP_MD_CTX_FREE.invokeExact(md);
                }
            }
            catch (final CryptoException ex)
            {
                throw ex;
            }
            catch (final Throwable t)
            {
                throw new CryptoException("libcrypto sign failed", t);
            }
            finally
            {
                release();
            }
        }

        @Override
        public byte[] decrypt(final byte[] input, final int length, final RsaPadding padding)
        {
            if (type != KeyType.RSA)
            {
                throw new CryptoException("decrypt needs an RSA key, this key is " + type);
            }
            acquire();
            try (Arena arena = Arena.ofConfined())
            {
                final MemorySegment ctx = (MemorySegment)LibCrypto.EVP_PKEY_CTX_NEW.invokeExact(pkey, MemorySegment.NULL);
                if (ctx.address() == 0)
                {
                    throw new CryptoException("EVP_PKEY_CTX_new failed: " + LibCrypto.drainErrors());
                }
                try
                {
                    check((int)LibCrypto.EVP_PKEY_DECRYPT_INIT.invokeExact(ctx), "EVP_PKEY_decrypt_init");
                    check((int)LibCrypto.EVP_PKEY_CTX_SET_RSA_PADDING.invokeExact(ctx, padding.openSslValue()),
                        "EVP_PKEY_CTX_set_rsa_padding");
                    final MemorySegment in = arena.allocate(Math.max(1, length));
                    MemorySegment.copy(input, 0, in, ValueLayout.JAVA_BYTE, 0, length);
                    final MemorySegment out = arena.allocate(maxSignatureLength);
                    final MemorySegment outLen = arena.allocate(ValueLayout.JAVA_LONG);
                    outLen.set(ValueLayout.JAVA_LONG, 0, maxSignatureLength);
                    check((int)LibCrypto.EVP_PKEY_DECRYPT.invokeExact(ctx, out, outLen, in, (long)length), "EVP_PKEY_decrypt");
                    final byte[] result = out.asSlice(0, outLen.get(ValueLayout.JAVA_LONG, 0)).toArray(ValueLayout.JAVA_BYTE);
                    out.fill((byte)0);
                    return result;
                }
                finally
                {
                    LibCrypto.EVP_PKEY_CTX_FREE.invokeExact(ctx);
                }
            }
            catch (final CryptoException ex)
            {
                throw ex;
            }
            catch (final Throwable t)
            {
                throw new CryptoException("libcrypto decrypt failed", t);
            }
            finally
            {
                release();
            }
        }

        @Override
        public void close()
        {
            if (closed.compareAndSet(false, true))
            {
                release();
            }
        }

        private void acquire()
        {
            int r;
            do
            {
                r = refs.get();
                if (r <= 0)
                {
                    throw new CryptoException("key closed");
                }
            }
            while (!refs.compareAndSet(r, r + 1));
        }

        private void release()
        {
            if (refs.decrementAndGet() == 0)
            {
                try
                {
                    LibCrypto.EVP_PKEY_FREE.invokeExact(pkey);
                }
                catch (final Throwable t)
                {
                    throw new CryptoException("EVP_PKEY_free failed", t);
                }
            }
        }

        private static void check(final int rc, final String step)
        {
            if (rc <= 0)
            {
                throw new CryptoException(step + " failed: " + LibCrypto.drainErrors());
            }
        }
    }
}
