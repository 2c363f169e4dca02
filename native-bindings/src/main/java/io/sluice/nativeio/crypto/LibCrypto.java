package io.sluice.nativeio.crypto;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Panama downcalls into OpenSSL 3's libcrypto.so.3 (present on every Debian 12), only the EVP calls the key server needs.
 * Signatures follow openssl/evp.h, openssl/x509.h (d2i_AutoPrivateKey), openssl/pem.h, openssl/bio.h, openssl/err.h of
 * OpenSSL 3.0 (https://github.com/openssl/openssl/blob/openssl-3.0/include/openssl/evp.h). Availability is probed once.
 */
public final class LibCrypto
{
    public static final String LIBRARY = "libcrypto.so.3";

    /** openssl/evp.h: EVP_PKEY_RSA = NID_rsaEncryption. */
    public static final int EVP_PKEY_RSA = 6;
    /** openssl/evp.h: EVP_PKEY_EC = NID_X9_62_id_ecPublicKey. */
    public static final int EVP_PKEY_EC = 408;
    /** openssl/evp.h: EVP_PKEY_ED25519 = NID_ED25519. */
    public static final int EVP_PKEY_ED25519 = 1087;
    /** openssl/rsa.h: RSA_PKCS1_PSS_PADDING. */
    public static final int RSA_PKCS1_PSS_PADDING = 6;
    /** openssl/rsa.h: RSA_PKCS1_PADDING. */
    public static final int RSA_PKCS1_PADDING = 1;
    /** openssl/rsa.h: RSA_PSS_SALTLEN_DIGEST, salt as long as the digest (TLS 1.3 rule). */
    public static final int RSA_PSS_SALTLEN_DIGEST = -1;

    static final MethodHandle D2I_AUTO_PRIVATE_KEY;
    static final MethodHandle BIO_NEW_MEM_BUF;
    static final MethodHandle BIO_FREE;
    static final MethodHandle PEM_READ_BIO_PRIVATE_KEY;
    static final MethodHandle EVP_PKEY_FREE;
    static final MethodHandle EVP_PKEY_GET_BASE_ID;
    static final MethodHandle EVP_PKEY_GET_BITS;
    static final MethodHandle EVP_PKEY_GET_SIZE;
    static final MethodHandle EVP_MD_CTX_NEW;
    static final MethodHandle EVP_MD_CTX_FREE;
    static final MethodHandle EVP_DIGEST_SIGN_INIT;
    static final MethodHandle EVP_DIGEST_SIGN;
    static final MethodHandle EVP_PKEY_CTX_SET_RSA_PADDING;
    static final MethodHandle EVP_PKEY_CTX_SET_RSA_PSS_SALTLEN;
    static final MethodHandle EVP_PKEY_CTX_NEW;
    static final MethodHandle EVP_PKEY_CTX_FREE;
    static final MethodHandle EVP_PKEY_DECRYPT_INIT;
    static final MethodHandle EVP_PKEY_DECRYPT;
    static final MethodHandle ERR_GET_ERROR;
    static final MethodHandle ERR_ERROR_STRING_N;
    static final MemorySegment EVP_MD5_SHA1;
    static final MemorySegment EVP_SHA1;
    static final MemorySegment EVP_SHA256;
    static final MemorySegment EVP_SHA384;
    static final MemorySegment EVP_SHA512;

    private static final Throwable UNAVAILABILITY_CAUSE;

    static
    {
        MethodHandle d2i = null;
        MethodHandle bioNew = null;
        MethodHandle bioFree = null;
        MethodHandle pemRead = null;
        MethodHandle pkeyFree = null;
        MethodHandle baseId = null;
        MethodHandle bits = null;
        MethodHandle size = null;
        MethodHandle mdNew = null;
        MethodHandle mdFree = null;
        MethodHandle signInit = null;
        MethodHandle sign = null;
        MethodHandle padding = null;
        MethodHandle salt = null;
        MethodHandle ctxNew = null;
        MethodHandle ctxFree = null;
        MethodHandle decInit = null;
        MethodHandle dec = null;
        MethodHandle errGet = null;
        MethodHandle errString = null;
        MemorySegment md5sha1 = MemorySegment.NULL;
        MemorySegment sha1 = MemorySegment.NULL;
        MemorySegment sha256 = MemorySegment.NULL;
        MemorySegment sha384 = MemorySegment.NULL;
        MemorySegment sha512 = MemorySegment.NULL;
        Throwable cause = null;
        try
        {
            final Linker linker = Linker.nativeLinker();
            final SymbolLookup lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
            final Lookup l = new Lookup(linker, lib);
            d2i = l.find("d2i_AutoPrivateKey", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
            bioNew = l.find("BIO_new_mem_buf", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
            bioFree = l.find("BIO_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            pemRead = l.find("PEM_read_bio_PrivateKey", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
            pkeyFree = l.find("EVP_PKEY_free", FunctionDescriptor.ofVoid(ADDRESS));
            baseId = l.find("EVP_PKEY_get_base_id", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            bits = l.find("EVP_PKEY_get_bits", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            size = l.find("EVP_PKEY_get_size", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            mdNew = l.find("EVP_MD_CTX_new", FunctionDescriptor.of(ADDRESS));
            mdFree = l.find("EVP_MD_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
            signInit = l.find("EVP_DigestSignInit", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
            sign = l.find("EVP_DigestSign", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
            padding = l.find("EVP_PKEY_CTX_set_rsa_padding", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            salt = l.find("EVP_PKEY_CTX_set_rsa_pss_saltlen", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            ctxNew = l.find("EVP_PKEY_CTX_new", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
            ctxFree = l.find("EVP_PKEY_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
            decInit = l.find("EVP_PKEY_decrypt_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            dec = l.find("EVP_PKEY_decrypt", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
            errGet = l.find("ERR_get_error", FunctionDescriptor.of(JAVA_LONG));
            errString = l.find("ERR_error_string_n", FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_LONG));
            final FunctionDescriptor mdGetter = FunctionDescriptor.of(ADDRESS);
            md5sha1 = (MemorySegment)l.find("EVP_md5_sha1", mdGetter).invokeExact();
            sha1 = (MemorySegment)l.find("EVP_sha1", mdGetter).invokeExact();
            sha256 = (MemorySegment)l.find("EVP_sha256", mdGetter).invokeExact();
            sha384 = (MemorySegment)l.find("EVP_sha384", mdGetter).invokeExact();
            sha512 = (MemorySegment)l.find("EVP_sha512", mdGetter).invokeExact();
            if (md5sha1.address() == 0 || sha256.address() == 0)
            {
                throw new IllegalStateException("libcrypto returned no SHA-256 / MD5-SHA1 digest (FIPS-only provider?)");
            }
        }
        catch (final Throwable t)
        {
            cause = t;
        }
        D2I_AUTO_PRIVATE_KEY = d2i;
        BIO_NEW_MEM_BUF = bioNew;
        BIO_FREE = bioFree;
        PEM_READ_BIO_PRIVATE_KEY = pemRead;
        EVP_PKEY_FREE = pkeyFree;
        EVP_PKEY_GET_BASE_ID = baseId;
        EVP_PKEY_GET_BITS = bits;
        EVP_PKEY_GET_SIZE = size;
        EVP_MD_CTX_NEW = mdNew;
        EVP_MD_CTX_FREE = mdFree;
        EVP_DIGEST_SIGN_INIT = signInit;
        EVP_DIGEST_SIGN = sign;
        EVP_PKEY_CTX_SET_RSA_PADDING = padding;
        EVP_PKEY_CTX_SET_RSA_PSS_SALTLEN = salt;
        EVP_PKEY_CTX_NEW = ctxNew;
        EVP_PKEY_CTX_FREE = ctxFree;
        EVP_PKEY_DECRYPT_INIT = decInit;
        EVP_PKEY_DECRYPT = dec;
        ERR_GET_ERROR = errGet;
        ERR_ERROR_STRING_N = errString;
        EVP_MD5_SHA1 = md5sha1;
        EVP_SHA1 = sha1;
        EVP_SHA256 = sha256;
        EVP_SHA384 = sha384;
        EVP_SHA512 = sha512;
        UNAVAILABILITY_CAUSE = cause;
    }

    private LibCrypto()
    {
    }

    /**
     * @return true when libcrypto.so.3 was loaded and every symbol bound.
     */
    public static boolean isAvailable()
    {
        return UNAVAILABILITY_CAUSE == null;
    }

    /**
     * @return why libcrypto is not usable, or null when it is.
     */
    public static Throwable unavailabilityCause()
    {
        return UNAVAILABILITY_CAUSE;
    }

    /**
     * @throws UnsatisfiedLinkError when libcrypto is not usable, with the cause attached.
     */
    public static void ensureAvailability()
    {
        if (UNAVAILABILITY_CAUSE != null)
        {
            throw (UnsatisfiedLinkError)new UnsatisfiedLinkError("failed to bind " + LIBRARY).initCause(UNAVAILABILITY_CAUSE);
        }
    }

    /**
     * Drain this thread's OpenSSL error queue into one string (the queue is thread local, so stale errors would
     * otherwise be blamed on the next operation).
     *
     * @return the joined error strings, or "no error queued".
     */
    static String drainErrors()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment buf = arena.allocate(256);
            final StringBuilder sb = new StringBuilder();
            long code;
            while ((code = (long)ERR_GET_ERROR.invokeExact()) != 0)
            {
                ERR_ERROR_STRING_N.invokeExact(code, buf, 256L);
                if (sb.length() > 0)
                {
                    sb.append("; ");
                }
                sb.append(buf.getString(0, StandardCharsets.US_ASCII));
            }
            return sb.length() == 0 ? "no error queued" : sb.toString();
        }
        catch (final Throwable t)
        {
            return "error queue unreadable: " + t;
        }
    }

    private record Lookup(Linker linker, SymbolLookup lib)
    {
        MethodHandle find(final String name, final FunctionDescriptor fd)
        {
            final MemorySegment symbol = lib.find(name).orElseThrow(() -> new UnsatisfiedLinkError(LIBRARY + " lacks " + name));
            return linker.downcallHandle(symbol, fd);
        }
    }
}
