package io.sluice.nativeio.crypto;

/** A private-key operation or key parse failed; the message names the step and (for libcrypto) its error string. */
public final class CryptoException extends RuntimeException
{
    public CryptoException(final String message)
    {
        super(message);
    }

    public CryptoException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
