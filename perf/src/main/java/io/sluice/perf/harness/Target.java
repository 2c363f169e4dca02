package io.sluice.perf.harness;

import java.util.List;

/**
 * Where a workload sends its load for one subject: addresses (several for packet loads spread over
 * backends without an LB), port, and the nodes whose packet sinks count what was delivered.
 */
public record Target(List<String> addresses, int port, List<String> sinkNodes)
{
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
