package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** Whether an ACL lists the sources let in or those kept out. */
public enum AclMode implements Schema.WireEnum
{
    ALLOW("allow"),
    DENY("deny");

    private final String wireName;

    AclMode(final String wireName)
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
