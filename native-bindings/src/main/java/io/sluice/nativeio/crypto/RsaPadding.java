package io.sluice.nativeio.crypto;

/** Padding for RSA decryption; values are OpenSSL's RSA_*_PADDING constants. */
public enum RsaPadding
{
    /** Raw RSA: what BoringSSL asks of a private key method for TLS RSA key exchange (it checks the padding itself). */
    NONE(3),
    PKCS1(1);

    private final int openSslValue;

    RsaPadding(final int openSslValue)
    {
        this.openSslValue = openSslValue;
    }

    public int openSslValue()
    {
        return openSslValue;
    }
}
