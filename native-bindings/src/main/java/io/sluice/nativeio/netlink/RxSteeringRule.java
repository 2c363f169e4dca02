package io.sluice.nativeio.netlink;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One n-tuple (flow steering) rule for {@link Ethtool#insertRxRule}: frames of {@code protocol} (TCP 6 / UDP 17) to
 * {@code dstAddress} (4 bytes IPv4 or 16 bytes IPv6, network order) whose destination port ANDed with
 * {@code dstPortMask} equals {@code dstPort} (host-order ints 0..65535) go to RX queue {@code queue}.
 * <p>
 * The address array is copied in and out, and equality compares its contents.
 *
 * @param protocol    IP protocol number: 6 (TCP) or 17 (UDP)
 * @param dstAddress  destination address, 4 (IPv4) or 16 (IPv6) bytes in network order; matched exactly
 * @param dstPort     destination port 0..65535; no bit outside {@code dstPortMask}
 * @param dstPortMask which destination port bits are compared (1 = compared) 0..65535; 0xffff for one port
 * @param queue       the RX queue (ring) the frames go to, {@code >= 0}
 */
public record RxSteeringRule(int protocol, byte[] dstAddress, int dstPort, int dstPortMask, int queue)
{
    public static final int TCP = 6;
    public static final int UDP = 17;

    public RxSteeringRule
    {
        if (protocol != TCP && protocol != UDP)
        {
            throw new IllegalArgumentException("protocol: " + protocol + " is neither TCP (6) nor UDP (17)");
        }
        if (dstAddress == null || dstAddress.length != 4 && dstAddress.length != 16)
        {
            throw new IllegalArgumentException("dstAddress: " + (dstAddress == null ? "null" : dstAddress.length + " bytes")
                + " is neither 4 (IPv4) nor 16 (IPv6) bytes");
        }
        if (dstPort < 0 || dstPort > 0xffff)
        {
            throw new IllegalArgumentException("dstPort: " + dstPort + " is outside 0..65535");
        }
        if (dstPortMask < 0 || dstPortMask > 0xffff)
        {
            throw new IllegalArgumentException("dstPortMask: " + dstPortMask + " is outside 0..65535");
        }
        if ((dstPort & ~dstPortMask) != 0)
        {
            throw new IllegalArgumentException("dstPort: 0x" + Integer.toHexString(dstPort) + " has bits outside dstPortMask 0x"
                + Integer.toHexString(dstPortMask));
        }
        if (queue < 0)
        {
            throw new IllegalArgumentException("queue: " + queue + " is negative");
        }
        dstAddress = dstAddress.clone();
    }

    /** @return a copy of the destination address (network order). */
    @Override
    public byte[] dstAddress()
    {
        return dstAddress.clone();
    }

    /** @return whether the destination is an IPv6 address. */
    public boolean ipv6()
    {
        return dstAddress.length == 16;
    }

    @Override
    public boolean equals(final Object other)
    {
        return other instanceof RxSteeringRule rule && protocol == rule.protocol && Arrays.equals(dstAddress, rule.dstAddress)
            && dstPort == rule.dstPort && dstPortMask == rule.dstPortMask && queue == rule.queue;
    }

    @Override
    public int hashCode()
    {
        return ((Arrays.hashCode(dstAddress) * 31 + protocol) * 31 + dstPort) * 31 + dstPortMask + 31 * queue;
    }

    @Override
    public String toString()
    {
        return "RxSteeringRule[protocol=" + protocol + ", dstAddress=" + HexFormat.of().formatHex(dstAddress) + ", dstPort="
            + dstPort + ", dstPortMask=0x" + Integer.toHexString(dstPortMask) + ", queue=" + queue + "]";
    }
}
