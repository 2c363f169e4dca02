package io.sluice.nativeio.crypto;

/** Picks the fastest provider this machine has: libcrypto when it binds, else the JDK. */
public final class CryptoProviders
{
    private CryptoProviders()
    {
    }

    /**
     * @return {@link LibCryptoProvider} when {@link LibCrypto#isAvailable()}, else {@link JcaProvider}.
     */
    public static PrivateKeyCrypto best()
    {
        return LibCrypto.isAvailable() ? new LibCryptoProvider() : new JcaProvider();
    }

    /**
     * @param name "libcrypto", "jca" or "auto".
     * @return the named provider.
     */
    public static PrivateKeyCrypto named(final String name)
    {
        return switch (name)
        {
            case "auto" -> best();
            case "libcrypto" ->
            {
                LibCrypto.ensureAvailability();
                yield new LibCryptoProvider();
            }
            case "jca" -> new JcaProvider();
            default -> throw new IllegalArgumentException("crypto provider " + name + " is not one of auto, libcrypto, jca");
        };
    }
}
