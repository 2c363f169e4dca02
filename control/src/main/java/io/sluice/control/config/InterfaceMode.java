package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** How the fastpath attaches to a data interface. */
public enum InterfaceMode implements Schema.WireEnum
{
    XDP("xdp"),
    XDP_GENERIC("xdp-generic"),
    AF_PACKET("af-packet");

    private final String wireName;

    InterfaceMode(final String wireName)
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
