package io.sluice.nativeio.xdp;

import io.sluice.nativeio.bpf.Bpf;

/** How an XDP program is attached (XDP_FLAGS_* of linux/if_link.h). */
public enum XdpMode
{
    /** In the driver (veth, most NICs): the fast one, and the only one AF_XDP zero-copy works with. */
    NATIVE(Bpf.XDP_FLAGS_DRV_MODE),
    /** After the skb is built, for any interface: slow but works where the driver has no XDP. */
    GENERIC(Bpf.XDP_FLAGS_SKB_MODE);

    private final int flags;

    XdpMode(final int flags)
    {
        this.flags = flags;
    }

    public int flags()
    {
        return flags;
    }
}
