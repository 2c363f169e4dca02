package io.sluice.fastpath;

/**
 * Next-hop MAC addresses, as the node learns them from the kernel (rtnetlink routes and neighbours). Read by every
 * forwarder on the data path: lookups must not block or allocate. Addresses are in the uniform 128-bit form.
 */
public interface NeighbourTable
{
    long NO_MAC = -1;

    /** MAC of the next hop towards {@code address}, or {@link #NO_MAC} when not (yet) known. */
    long nextHopMac(long high, long low);

    /** Asks for resolution of an unknown next hop; never blocks, may drop the request when busy. */
    void requestResolution(long high, long low);
}
