package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** HTTP status classes a health check accepts. */
public enum ExpectedCode implements Schema.WireEnum
{
    HTTP_2XX("http_2xx"),
    HTTP_3XX("http_3xx"),
    HTTP_4XX("http_4xx"),
    HTTP_5XX("http_5xx");

    private final String wireName;

    ExpectedCode(final String wireName)
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
