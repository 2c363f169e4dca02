package io.sluice.perf.harness;

import java.util.List;

/**
 * Where a workload sends its load for one subject: addresses (several for packet loads spread over
 * backends without an LB), port, the nodes whose packet sinks count what was delivered, and the
 * interface those sinks count on (null: any; a reflector's sink counts only what comes back).
 */
public record Target(List<String> addresses, int port, List<String> sinkNodes, String sinkInterface)
{
    public Target(final List<String> addresses, final int port, final List<String> sinkNodes)
    {
        this(addresses, port, sinkNodes, null);
    }

    public static Target of(final String address, final int port)
    {
        return new Target(List.of(address), port, List.of());
    }

    public String address()
    {
        return addresses.getFirst();
    }

    /** Host part for a URL (IPv6 in brackets). */
    public String urlHost()
    {
        return address().contains(":") ? "[" + address() + "]" : address();
    }
}
