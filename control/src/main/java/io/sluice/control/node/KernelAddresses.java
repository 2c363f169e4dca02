package io.sluice.control.node;

import io.sluice.nativeio.netlink.Netlink;
import io.sluice.nativeio.packet.Announcements;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Makes the node's VIPs and local addresses present in the kernel (so ARP/ND answer for them and the L7 proxy can bind
 * them), tolerates those that are already there, and removes on close exactly what it added. Addresses are changed over
 * rtnetlink in the node's network namespace; an address added to a data interface is announced at once (gratuitous ARP,
 * unsolicited neighbour advertisement) so neighbours and switches learn where it now lives.
 */
public final class KernelAddresses implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(KernelAddresses.class.getName());

    /**
     * An address this node added.
     *
     * @param address the address.
     * @param prefix  /32 or /128.
     * @param ifname  where it was added.
     * @param ifindex its index.
     */
    public record Added(InetAddress address, int prefix, String ifname, int ifindex)
    {
    }

    private final Netlink netlink = new Netlink();
    private final Deque<Added> added = new ArrayDeque<>();

    /**
     * Adds the address to {@code ifname} unless some interface of this namespace already has it.
     *
     * @return true when this call added it.
     */
    public synchronized boolean ensure(final String address, final String ifname) throws IOException
    {
        final InetAddress inet = InetAddress.ofLiteral(address);
        if (present().contains(inet))
        {
            return false;
        }
        final Netlink.Link link = netlink.link(ifname);
        if (link == null)
        {
            throw new IOException("no interface " + ifname + " in this network namespace");
        }
        final int prefix = inet instanceof Inet4Address ? 32 : 128;
        netlink.addAddress(link.index(), inet, prefix);
        added.push(new Added(inet, prefix, ifname, link.index()));
        if (!"lo".equals(ifname) && link.up())
        {
            announce(link, inet);
        }
        return true;
    }

    /** Tells the segment that {@code address} lives behind {@code ifname} now (after a takeover, or when added). */
    public void announce(final Netlink.Link link, final InetAddress address)
    {
        try
        {
            if (address instanceof Inet4Address v4)
            {
                Announcements.gratuitousArp(link.index(), link.mac(), v4);
            }
            else
            {
                Announcements.unsolicitedNeighbourAdvertisement(link.index(), link.mac(), (Inet6Address)address);
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.log(System.Logger.Level.WARNING, "could not announce " + address.getHostAddress() + " on " + link.name() + ": "
                + ex.getMessage());
        }
    }

    /**
     * Removes an address this node added (one it found already there stays).
     *
     * @return true when it was removed.
     */
    public synchronized boolean release(final String address)
    {
        final InetAddress inet = InetAddress.ofLiteral(address);
        for (final Added entry : added)
        {
            if (entry.address().equals(inet))
            {
                netlink.removeAddress(entry.ifindex(), entry.address(), entry.prefix());
                added.remove(entry);
                return true;
            }
        }
        return false;
    }

    public synchronized List<Added> added()
    {
        return List.copyOf(added);
    }

    /**
     * The interface among {@code candidates} with a connected prefix that holds {@code address} (a local address belongs on
     * the segment its backends answer on), else the first candidate.
     */
    public synchronized String interfaceFor(final InetAddress address, final List<String> candidates)
    {
        for (final String name : candidates)
        {
            final Netlink.Link link = netlink.link(name);
            if (link == null)
            {
                continue;
            }
            for (final Netlink.InterfaceAddress onLink : netlink.addresses(link.index()))
            {
                if (samePrefix(onLink.address(), address, onLink.prefixLength()))
                {
                    return name;
                }
            }
        }
        return candidates.getFirst();
    }

    private static boolean samePrefix(final InetAddress a, final InetAddress b, final int prefixLength)
    {
        final byte[] x = a.getAddress();
        final byte[] y = b.getAddress();
        if (x.length != y.length || prefixLength >= x.length * 8)
        {
            return false;
        }
        for (int bit = 0; bit < prefixLength; bit++)
        {
            final int mask = 0x80 >>> (bit & 7);
            if ((x[bit >> 3] & mask) != (y[bit >> 3] & mask))
            {
                return false;
            }
        }
        return true;
    }

    /** Every address configured on any interface of this namespace. */
    public synchronized Set<InetAddress> present()
    {
        final Set<InetAddress> out = new HashSet<>();
        for (final Netlink.InterfaceAddress address : netlink.addresses(0))
        {
            out.add(address.address());
        }
        return out;
    }

    /** Removes what {@link #ensure} added, newest first; failures are logged, never thrown. */
    @Override
    public synchronized void close()
    {
        while (!added.isEmpty())
        {
            final Added entry = added.pop();
            try
            {
                netlink.removeAddress(entry.ifindex(), entry.address(), entry.prefix());
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "could not remove " + entry.address().getHostAddress() + " from " + entry.ifname()
                    + ": " + ex.getMessage());
            }
        }
        netlink.close();
    }
}
