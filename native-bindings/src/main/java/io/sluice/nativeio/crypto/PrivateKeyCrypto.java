package io.sluice.nativeio.crypto;

/**
 * Parses private keys and performs the private-key step of TLS handshakes.
 * Two implementations: {@link LibCryptoProvider} (OpenSSL libcrypto through Panama, several times faster here)
 * and {@link JcaProvider} (the JDK, the fallback when libcrypto.so.3 cannot be loaded).
 */
public interface PrivateKeyCrypto
{
    /**
     * @return a short name for logs and counters labels ("libcrypto" or "jca").
     */
    String name();

    /**
     * Parse an unencrypted PKCS#8 DER private key (RSA, EC P-256/384/521 or Ed25519).
     *
     * @param pkcs8Der the DER bytes; the caller should wipe its copy after the call.
     * @return a key usable from many threads at once.
     */
    LoadedKey loadPkcs8(byte[] pkcs8Der);

    /**
     * Parse a PEM private key ("PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY").
     *
     * @param pem the PEM text.
     * @return a key usable from many threads at once.
     */
    LoadedKey loadPem(byte[] pem);

    /** A parsed private key. Thread safe; {@link #close()} once no operation is in flight. */
    interface LoadedKey extends AutoCloseable
    {
        KeyType type();

        /** RSA modulus bits, EC field bits (256, 384, 521) or 253 for Ed25519. */
        int bits();

        /**
         * Sign a whole message (the key hashes it, as BoringSSL's private key method expects).
         *
         * @param scheme TLS signature scheme; its key type must match.
         * @param message the bytes to sign.
         * @return the signature (DER for ECDSA).
         */
        default byte[] sign(SignatureScheme scheme, byte[] message)
        {
            return sign(scheme, message, message.length);
        }

        /**
         * Sign the first {@code length} bytes of {@code message} (a reused buffer).
         *
         * @param scheme TLS signature scheme; its key type must match.
         * @param message buffer holding the message from index 0.
         * @param length message length.
         * @return the signature (DER for ECDSA).
         */
        byte[] sign(SignatureScheme scheme, byte[] message, int length);

        /**
         * RSA private-key decryption.
         *
         * @param input the ciphertext, modulus-sized.
         * @param padding padding to remove, {@link RsaPadding#NONE} for TLS RSA key exchange.
         * @return the plaintext.
         */
        default byte[] decrypt(byte[] input, RsaPadding padding)
        {
            return decrypt(input, input.length, padding);
        }

        /**
         * RSA private-key decryption of the first {@code length} bytes of a reused buffer.
         *
         * @param input buffer holding the ciphertext from index 0.
         * @param length ciphertext length.
         * @param padding padding to remove.
         * @return the plaintext.
         */
        byte[] decrypt(byte[] input, int length, RsaPadding padding);

        @Override
        void close();
    }
}
