package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** The perf profiles shipped in profiles/. */
public enum ProfileName implements Schema.WireEnum
{
    LATENCY("latency"),
    THROUGHPUT("throughput"),
    BALANCED("balanced"),
    SHARED("shared");

    private final String wireName;

    ProfileName(final String wireName)
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
