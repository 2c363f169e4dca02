package io.sluice.keyserver.client;

import java.util.List;

/**
 * Named TLS policies (CONTRACT.md {@code tlsPolicy}): each a fixed set of protocol versions and cipher suites, so a
 * listener's behaviour is known from its name. Suites use OpenSSL/BoringSSL names; BoringSSL always offers its three
 * TLS 1.3 suites (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256) whenever 1.3 is on.
 */
public enum TlsPolicy
{
    TLS_1_0("tls_1_0", List.of("TLSv1", "TLSv1.1", "TLSv1.2"), Suites.LEGACY),
    TLS_1_1("tls_1_1", List.of("TLSv1.1", "TLSv1.2"), Suites.LEGACY),
    TLS_1_2("tls_1_2", List.of("TLSv1.2"), Suites.LEGACY),
    /** ECDHE key exchange and AEAD ciphers only: forward secrecy, no RSA decrypt on the key server. */
    TLS_1_2_STRICT("tls_1_2_strict", List.of("TLSv1.2"), Suites.STRICT),
    TLS_1_2_STRICT_WITH_1_3("tls_1_2_strict_with_1_3", List.of("TLSv1.2", "TLSv1.3"), Suites.STRICT_WITH_1_3);

    private final String configName;
    private final List<String> protocols;
    private final List<String> ciphers;

    TlsPolicy(final String configName, final List<String> protocols, final List<String> ciphers)
    {
        this.configName = configName;
        this.protocols = protocols;
        this.ciphers = ciphers;
    }

    /**
     * @return the name used in config files ("tls_1_2_strict_with_1_3").
     */
    public String configName()
    {
        return configName;
    }

    public List<String> protocols()
    {
        return protocols;
    }

    public List<String> ciphers()
    {
        return ciphers;
    }

    /**
     * @param name a config name.
     * @return the policy.
     * @throws IllegalArgumentException listing the allowed names.
     */
    public static TlsPolicy fromConfigName(final String name)
    {
        for (final TlsPolicy p : values())
        {
            if (p.configName.equals(name))
            {
                return p;
            }
        }
        throw new IllegalArgumentException("tlsPolicy: " + name + " is not one of tls_1_0, tls_1_1, tls_1_2, tls_1_2_strict, "
            + "tls_1_2_strict_with_1_3");
    }

    private static final class Suites
    {
        static final List<String> STRICT = List.of(
            "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305");

        /** Netty turns TLS 1.3 off unless a 1.3 suite is named, though BoringSSL does not let the set be chosen. */
        static final List<String> STRICT_WITH_1_3 = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305");

        static final List<String> LEGACY = List.of(
            "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
            "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
            "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
            "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA");

        private Suites()
        {
        }
    }
}
