package io.sluice.nativeio.crypto;

/** Private key families the key server holds. */
public enum KeyType
{
    RSA, EC, ED25519
}
