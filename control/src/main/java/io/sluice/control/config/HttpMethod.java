package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** The method of an HTTP health check. */
public enum HttpMethod implements Schema.WireEnum
{
    GET("GET"),
    HEAD("HEAD");

    private final String wireName;

    HttpMethod(final String wireName)
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
