package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** The protocol a listener serves. */
public enum Protocol implements Schema.WireEnum
{
    TCP("tcp"),
    UDP("udp"),
    HTTP("http"),
    HTTPS("https");

    private final String wireName;

    Protocol(final String wireName)
    {
        this.wireName = wireName;
    }

    /** Served by the L7 proxy (else by the L4 fastpath). */
    public boolean isL7()
    {
        return this == HTTP || this == HTTPS;
    }

    /** The transport whose port space the listener takes on its VIP. */
    public String transport()
    {
        return this == UDP ? "udp" : "tcp";
    }

    @JsonValue
    @Override
    public String wireName()
    {
        return wireName;
    }
}
