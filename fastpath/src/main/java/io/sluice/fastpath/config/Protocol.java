package io.sluice.fastpath.config;

/** L4 protocols the fastpath forwards, with their IP protocol numbers. */
public enum Protocol
{
    TCP(6),
    UDP(17);

    private final int number;

    Protocol(final int number)
    {
        this.number = number;
    }

    public int number()
    {
        return number;
    }

    public static Protocol parse(final String name)
    {
        return switch (name.toLowerCase(java.util.Locale.ROOT))
        {
            case "tcp" -> TCP;
            case "udp" -> UDP;
            default -> throw new IllegalArgumentException("protocol: " + name + " is not one of tcp, udp");
        };
    }
}
