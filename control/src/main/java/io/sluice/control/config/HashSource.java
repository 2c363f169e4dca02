package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** What the hash scheduler hashes. */
public enum HashSource implements Schema.WireEnum
{
    IP("ip"),
    HEADER("header"),
    COOKIE("cookie");

    private final String wireName;

    HashSource(final String wireName)
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
