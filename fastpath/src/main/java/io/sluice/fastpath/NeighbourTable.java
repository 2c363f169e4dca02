package io.sluice.fastpath;

/**
 * Next-hop MAC addresses, as the node learns them from the kernel (rtnetlink routes and neighbours). Read by every
 * forwarder on the data path: lookups must not block or allocate. Addresses are in the uniform 128-bit form.
 */
public interface NeighbourTable
{
    long NO_MAC = -1;

    /** Most data interfaces a node's forwarders can transmit on (the interface slot is 8 bits of a next hop). */
    int MAX_INTERFACES = 64;

    /**
     * The next hop towards {@code address}, or {@link #NO_MAC} when not (yet) known: the MAC in the low 48 bits and
     * the slot of the data interface to leave by above them ({@link #nextHop}); slot 0 on a one-interface node.
     */
    long nextHopMac(long high, long low);

    /** Packs a next hop: MAC (low 48 bits) and data-interface slot (bits 48–55), never negative, so never NO_MAC. */
    static long nextHop(final int interfaceSlot, final long mac)
    {
        return ((long)interfaceSlot << 48) | (mac & 0xFFFF_FFFF_FFFFL);
    }

    static int interfaceOf(final long nextHop)
    {
        return (int)(nextHop >>> 48);
    }

    static long macOf(final long nextHop)
    {
        return nextHop & 0xFFFF_FFFF_FFFFL;
    }

    /**
     * Identifies the current contents: {@link #nextHopMac} answers the same for the same address while this returns
     * the same object (by identity), so a caller may cache an answer read after it under it. {@code null} (the
     * default): do not cache.
     */
    default Object generation()
    {
        return null;
    }

    /** Asks for resolution of an unknown next hop; never blocks, may drop the request when busy. */
    void requestResolution(long high, long low);
}
