package io.sluice.nativeio.crypto;

/**
 * TLS signature schemes a private-key operation may be asked for, with their IANA code points
 * (RFC 8446 section 4.2.3) as BoringSSL passes them to an async private key method.
 * {@link #RSA_PKCS1_MD5_SHA1} is BoringSSL's private code point for TLS 1.0/1.1 RSA signatures
 * (PKCS#1 v1.5 over MD5 || SHA-1 without a DigestInfo).
 */
public enum SignatureScheme
{
    RSA_PKCS1_MD5_SHA1(0xff01, KeyType.RSA, Digest.MD5_SHA1, false),
    RSA_PKCS1_SHA1(0x0201, KeyType.RSA, Digest.SHA1, false),
    RSA_PKCS1_SHA256(0x0401, KeyType.RSA, Digest.SHA256, false),
    RSA_PKCS1_SHA384(0x0501, KeyType.RSA, Digest.SHA384, false),
    RSA_PKCS1_SHA512(0x0601, KeyType.RSA, Digest.SHA512, false),
    RSA_PSS_RSAE_SHA256(0x0804, KeyType.RSA, Digest.SHA256, true),
    RSA_PSS_RSAE_SHA384(0x0805, KeyType.RSA, Digest.SHA384, true),
    RSA_PSS_RSAE_SHA512(0x0806, KeyType.RSA, Digest.SHA512, true),
    ECDSA_SHA1(0x0203, KeyType.EC, Digest.SHA1, false),
    ECDSA_SECP256R1_SHA256(0x0403, KeyType.EC, Digest.SHA256, false),
    ECDSA_SECP384R1_SHA384(0x0503, KeyType.EC, Digest.SHA384, false),
    ECDSA_SECP521R1_SHA512(0x0603, KeyType.EC, Digest.SHA512, false),
    ED25519(0x0807, KeyType.ED25519, Digest.NONE, false);

    /** The digest a scheme hashes the message with before the private-key step. */
    public enum Digest
    {
        NONE, MD5_SHA1, SHA1, SHA256, SHA384, SHA512
    }

    private static final SignatureScheme[] BY_LOW_CODE = new SignatureScheme[0x10000];

    static
    {
        for (final SignatureScheme s : values())
        {
            BY_LOW_CODE[s.code] = s;
        }
    }

    private final int code;
    private final KeyType keyType;
    private final Digest digest;
    private final boolean pss;

    SignatureScheme(final int code, final KeyType keyType, final Digest digest, final boolean pss)
    {
        this.code = code;
        this.keyType = keyType;
        this.digest = digest;
        this.pss = pss;
    }

    public int code()
    {
        return code;
    }

    public KeyType keyType()
    {
        return keyType;
    }

    public Digest digest()
    {
        return digest;
    }

    /** RSA-PSS with MGF1 over the same digest and salt length equal to the digest length (as TLS 1.3 requires). */
    public boolean pss()
    {
        return pss;
    }

    /**
     * @param code TLS SignatureScheme code point.
     * @return the scheme or null when the code is not one this key server signs.
     */
    public static SignatureScheme fromCode(final int code)
    {
        return code < 0 || code >= BY_LOW_CODE.length ? null : BY_LOW_CODE[code];
    }
}
