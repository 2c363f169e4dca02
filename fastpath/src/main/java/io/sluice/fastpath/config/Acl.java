package io.sluice.fastpath.config;

import java.util.List;
import java.util.Locale;

/**
 * Access control for new flows of a listener: {@code ALLOW} admits only sources inside the CIDRs, {@code DENY}
 * admits all but them. The default (deny nothing) admits everyone.
 */
public record Acl(Mode mode, List<Cidr> cidrs)
{
    public static final Acl ALLOW_ALL = new Acl(Mode.DENY, List.of());

    public enum Mode
    {
        ALLOW,
        DENY;

        public static Mode parse(final String name)
        {
            return switch (name.toLowerCase(Locale.ROOT))
            {
                case "allow" -> ALLOW;
                case "deny" -> DENY;
                default -> throw new IllegalArgumentException("acl.mode: " + name + " is not one of allow, deny");
            };
        }
    }

    public Acl
    {
        cidrs = List.copyOf(cidrs);
    }

    public static Acl allow(final String... cidrs)
    {
        return new Acl(Mode.ALLOW, java.util.Arrays.stream(cidrs).map(Cidr::parse).toList());
    }

    public static Acl deny(final String... cidrs)
    {
        return new Acl(Mode.DENY, java.util.Arrays.stream(cidrs).map(Cidr::parse).toList());
    }
}
