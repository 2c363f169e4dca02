package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** How sticky sessions pin a client to a server. */
public enum StickyType implements Schema.WireEnum
{
    INSERT("insert"),
    SERVER("server");

    private final String wireName;

    StickyType(final String wireName)
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
