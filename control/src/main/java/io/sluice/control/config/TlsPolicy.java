package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** Named TLS presets: each a fixed set of versions and cipher suites. */
public enum TlsPolicy implements Schema.WireEnum
{
    TLS_1_0("tls_1_0"),
    TLS_1_1("tls_1_1"),
    TLS_1_2("tls_1_2"),
    TLS_1_2_STRICT("tls_1_2_strict"),
    TLS_1_2_STRICT_WITH_1_3("tls_1_2_strict_with_1_3");

    private final String wireName;

    TlsPolicy(final String wireName)
    {
        this.wireName = wireName;
    }

    @JsonValue
    @Override
    public String wireName()
    {
        return wireName;
    }
}
