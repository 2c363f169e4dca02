package io.sluice.fastpath.io;

import java.lang.System.Logger;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

import io.sluice.fastpath.NeighbourCache;
import io.sluice.fastpath.NeighbourTable;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.nativeio.netlink.Netlink;

/**
 * Fills a {@link NeighbourCache} from the kernel (control side, never on a forwarder): it drains the forwarders'
 * resolution requests, asks the kernel for the route (RTM_GETROUTE) and the next hop's neighbour entry (RTM_GETNEIGH),
 * and when the kernel has none yet, makes it resolve (RTM_NEWNEIGH with NTF_USE: an ARP request or neighbour
 * solicitation) and checks again every {@code retryNs}. Known entries are re-read every {@code refreshNs} so a changed
 * MAC is picked up.
 * <p>
 * On-link destinations (backends on the shared segment) get their own entry; destinations behind a gateway (clients)
 * all use the cache's default next hop, set to the gateway's MAC: one uplink gateway, as on an LB node behind its
 * router. Each entry also names the data interface the route leaves by, so a node with a client-side link and a
 * backend-side link transmits each frame on the right one. Slow and allocating by design: a duty cycle of an ordinary control thread.
 */
public final class KernelNeighbourResolver implements Agent, AutoCloseable
{
    private static final Logger LOGGER = System.getLogger(KernelNeighbourResolver.class.getName());

    private final NeighbourCache cache;
    private final Netlink netlink;
    private final NanoClock clock;
    private final long retryNs;
    private final long refreshNs;
    private final Map<InetAddress, Long> pending = new HashMap<>();
    private final Map<InetAddress, Long> known = new HashMap<>();
    private final List<InetAddress> requested = new ArrayList<>();
    private long nextRefreshNs;
    private InetAddress gateway;
    private final int[] interfaceIndexes;

    /**
     * @param netlink a NETLINK_ROUTE socket opened in the node's (data interfaces') network namespace; closed with this.
     */
    public KernelNeighbourResolver(final NeighbourCache cache, final Netlink netlink, final NanoClock clock,
        final long retryNs, final long refreshNs)
    {
        this(cache, netlink, clock, retryNs, refreshNs, null);
    }

    /**
     * @param interfaceIndexes the kernel ifindex of each data interface, in slot order: a next hop's entry names the
     *                         slot of the interface its route leaves by; destinations routed elsewhere stay unresolved
     *                         (the fastpath only transmits on data interfaces). {@code null}: one interface, slot 0.
     */
    public KernelNeighbourResolver(final NeighbourCache cache, final Netlink netlink, final NanoClock clock,
        final long retryNs, final long refreshNs, final int[] interfaceIndexes)
    {
        this.interfaceIndexes = interfaceIndexes == null ? null : interfaceIndexes.clone();
        this.cache = cache;
        this.netlink = netlink;
        this.clock = clock;
        this.retryNs = retryNs;
        this.refreshNs = refreshNs;
        this.nextRefreshNs = clock.nanoTime() + refreshNs;
    }

    @Override
    public String roleName()
    {
        return "fastpath-neighbour-resolver";
    }

    @Override
    public int doWork()
    {
        final long now = clock.nanoTime();
        int work = cache.drainRequests(this::onRequest);
        for (final InetAddress address : requested)
        {
            if (!pending.containsKey(address))
            {
                resolve(address, now);
            }
        }
        requested.clear();
        for (final Iterator<Map.Entry<InetAddress, Long>> it = pending.entrySet().iterator(); it.hasNext(); )
        {
            final Map.Entry<InetAddress, Long> e = it.next();
            if (e.getValue() <= now)
            {
                it.remove();
                resolve(e.getKey(), now);
                work++;
            }
        }
        if (now >= nextRefreshNs)
        {
            nextRefreshNs = now + refreshNs;
            for (final InetAddress address : new ArrayList<>(known.keySet()))
            {
                resolve(address, now);
                work++;
            }
        }
        return work;
    }

    /** Addresses waiting for the kernel to answer. */
    public int pendingCount()
    {
        return pending.size();
    }

    @Override
    public void onClose()
    {
        close();
    }

    @Override
    public void close()
    {
        netlink.close();
    }

    private void onRequest(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        requested.add(IpAddresses.toInetAddress(buffer.getLong(index), buffer.getLong(index + 8)));
    }

    private int slotOf(final int ifindex)
    {
        if (interfaceIndexes == null)
        {
            return 0;
        }
        for (int i = 0; i < interfaceIndexes.length; i++)
        {
            if (interfaceIndexes[i] == ifindex)
            {
                return i;
            }
        }
        return -1;
    }

    private void resolve(final InetAddress address, final long now)
    {
        final Optional<Netlink.Route> route = netlink.route(address);
        if (route.isEmpty())
        {
            LOGGER.log(Logger.Level.DEBUG, "no route to {0}", address.getHostAddress());
            return;
        }
        final Netlink.Route r = route.get();
        final int slot = slotOf(r.ifindex());
        if (slot < 0)
        {
            LOGGER.log(Logger.Level.DEBUG, "{0} is routed via ifindex {1}, not a data interface",
                address.getHostAddress(), r.ifindex());
            return;
        }
        final InetAddress nextHop = r.nextHop();
        final Optional<Netlink.Neighbour> neighbour = netlink.neighbour(r.ifindex(), nextHop);
        if (neighbour.isPresent() && neighbour.get().usable())
        {
            final long mac = PacketIoPort.mac(neighbour.get().mac());
            if (r.gateway() == null || cache.expects(address))
            {
                final Long previous = known.put(address, NeighbourTable.nextHop(slot, mac));
                if (previous == null || previous != NeighbourTable.nextHop(slot, mac))
                {
                    cache.put(address, slot, mac);
                }
            }
            else
            {
                if (!nextHop.equals(gateway))
                {
                    LOGGER.log(Logger.Level.INFO, "default next hop {0} ({1})", nextHop.getHostAddress(),
                        Netlink.formatMac(neighbour.get().mac()));
                    gateway = nextHop;
                }
                cache.defaultNextHop(slot, mac);
            }
            return;
        }
        netlink.resolveNeighbour(r.ifindex(), nextHop);
        pending.put(address, now + retryNs);
    }
}
