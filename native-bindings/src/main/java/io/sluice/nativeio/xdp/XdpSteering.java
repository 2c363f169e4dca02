package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;
import io.sluice.nativeio.bpf.Bpf;
import io.sluice.nativeio.bpf.BpfMap;

import java.net.InetAddress;

/**
 * The XDP steering program on one interface, and the maps the fastpath conductor drives it with.
 * <p>
 * {@code vip_map} (HASH, {@link VipKey} → {@link VipValue}) says which (address, port, proto) go to the AF_XDP socket
 * of the frame's rx queue ({@code xsks_map}, XSKMAP indexed by queue), which to the kernel, which to drop; local
 * (FullNAT source) addresses are redirected only inside their SNAT port range. See {@link SteeringProgram}.
 * {@code counters} (PERCPU_ARRAY of u64, one per {@link SteeringCounter}) says what happened to every frame.
 * <p>
 * The program is attached with BPF_LINK_CREATE: the link belongs to this process, so the program goes when the
 * process dies, however it dies (netlink attach would leave it running with nobody to update its maps).
 * Map updates are control-path calls (they allocate a little); they take effect for the next frame.
 */
public final class XdpSteering implements AutoCloseable
{
    /** What {@code vip_map} tells the program to do with a VIP's frames. */
    public enum Action
    {
        REDIRECT(VipValue.ACTION_REDIRECT),
        PASS(VipValue.ACTION_PASS),
        DROP(VipValue.ACTION_DROP);

        private final int code;

        Action(final int code)
        {
            this.code = code;
        }

        public int code()
        {
            return code;
        }
    }

    public static final int DEFAULT_MAX_QUEUES = 64;
    public static final int DEFAULT_MAX_VIPS = 16384;

    private final BpfMap vipMap;
    private final BpfMap xsksMap;
    private final BpfMap counters;
    private final int programFd;
    private int linkFd = -1;
    private int ifindex;

    private final boolean tc;

    private XdpSteering(final int maxQueues, final int maxVips, final boolean tc, final XdpFlowTable flows)
    {
        this.tc = tc;
        BpfMap vips = null;
        BpfMap xsks = null;
        BpfMap counts = null;
        try
        {
            vips = BpfMap.create(Bpf.BPF_MAP_TYPE_HASH, VipKey.LENGTH, VipValue.LENGTH, maxVips, "vip_map");
            xsks = tc ? null : BpfMap.create(Bpf.BPF_MAP_TYPE_XSKMAP, 4, 4, maxQueues, "xsks_map");
            counts = BpfMap.create(Bpf.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, SteeringCounter.COUNT, "steer_counters");
            programFd = tc
                ? Bpf.progLoad(Bpf.BPF_PROG_TYPE_SCHED_CLS, Bpf.BPF_TCX_INGRESS, SteeringProgram.buildTc(vips.fd(), counts.fd()),
                    "sluice_tc_steer")
                : Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, SteeringProgram.build(vips.fd(), xsks.fd(), counts.fd(), flows),
                    "sluice_steer");
        }
        catch (final RuntimeException ex)
        {
            closeAll(vips, xsks, counts);
            throw ex;
        }
        vipMap = vips;
        xsksMap = xsks;
        counters = counts;
    }

    private static void closeAll(final AutoCloseable... closeables)
    {
        for (final AutoCloseable closeable : closeables)
        {
            if (closeable != null)
            {
                try
                {
                    closeable.close();
                }
                catch (final Exception ignored)
                {
                    // cleanup after a failure: the first exception is the one to report
                }
            }
        }
    }

    /** Create the maps and load the program without attaching it (for BPF_PROG_TEST_RUN, or to attach later). */
    public static XdpSteering load(final int maxQueues, final int maxVips)
    {
        return load(maxQueues, maxVips, null);
    }

    /**
     * Like {@link #load(int, int)}, with the established-flow offload of {@code flows} in the program (null: none).
     * The steering does not own the flow table: several interfaces' programs share it, its owner closes it.
     */
    public static XdpSteering load(final int maxQueues, final int maxVips, final XdpFlowTable flows)
    {
        return new XdpSteering(maxQueues, maxVips, false, flows);
    }

    /**
     * Load the tc variant (see {@link SteeringProgram#buildTc}) and attach it at TCX ingress of {@code ifindex} through
     * a BPF link: for AF_PACKET interfaces, where steered flows must be kept from the kernel (no RSTs), not redirected.
     * {@link #registerXsk} is not available on it.
     */
    public static XdpSteering attachTcIngress(final int ifindex, final int maxVips)
    {
        final XdpSteering steering = new XdpSteering(0, maxVips, true, null);
        try
        {
            steering.linkFd = Bpf.linkCreate(steering.programFd, ifindex, Bpf.BPF_TCX_INGRESS, 0);
            steering.ifindex = ifindex;
        }
        catch (final RuntimeException ex)
        {
            steering.close();
            throw ex;
        }
        return steering;
    }

    /** Load and attach to {@code ifname} in the calling thread's network namespace. */
    public static XdpSteering attach(final String ifname, final XdpMode mode)
    {
        return attach(ifname, mode, null);
    }

    /**
     * Load with the established-flow offload of {@code flows} (null: none, as {@link #attach(String, XdpMode)}) and
     * attach to {@code ifname} in the calling thread's network namespace. A frame the offload redirects into a veth
     * is only received when the veth's peer runs NAPI (GRO on, or an XDP program of its own): veth_xdp_xmit.
     */
    public static XdpSteering attach(final String ifname, final XdpMode mode, final XdpFlowTable flows)
    {
        final int index = Libc.ifNameToIndex(ifname);
        if (index < 0)
        {
            throw new NativeException("if_nametoindex(" + ifname + ")", -index, "no such interface in this namespace");
        }
        final XdpSteering steering = load(DEFAULT_MAX_QUEUES, DEFAULT_MAX_VIPS, flows);
        try
        {
            steering.attach(index, mode);
        }
        catch (final RuntimeException ex)
        {
            steering.close();
            throw ex;
        }
        return steering;
    }

    /** Attach the loaded program to {@code ifindex} (in the calling thread's namespace). */
    public void attach(final int ifindex, final XdpMode mode)
    {
        if (linkFd >= 0 || tc)
        {
            throw new IllegalStateException("already attached to ifindex " + this.ifindex);
        }
        linkFd = Bpf.linkCreateXdp(programFd, ifindex, mode.flags());
        this.ifindex = ifindex;
    }

    public int programFd()
    {
        return programFd;
    }

    public int ifindex()
    {
        return ifindex;
    }

    /** Steer (address, port, proto) frames: REDIRECT to the XSK, PASS to the kernel, or DROP. Replaces an entry. */
    public void addVip(final InetAddress address, final int port, final int proto, final Action action)
    {
        vipMap.update(VipKey.of(address, port, proto), VipValue.of(action.code(), 0, 0), Bpf.BPF_ANY);
    }

    /** @return true when the entry was there. Its frames go to the kernel from the next frame on. */
    public boolean removeVip(final InetAddress address, final int port, final int proto)
    {
        return vipMap.delete(VipKey.of(address, port, proto));
    }

    /** Redirect frames to local (FullNAT source) {@code address} whose destination port is in [portLo, portHi]. */
    public void addLocalAddress(final InetAddress address, final int portLo, final int portHi)
    {
        if (portLo < 1 || portHi > 65535 || portLo > portHi)
        {
            throw new IllegalArgumentException("SNAT port range " + portLo + ".." + portHi + " is not within 1..65535");
        }
        vipMap.update(VipKey.of(address, 0, 0), VipValue.of(VipValue.ACTION_LOCAL, portLo, portHi), Bpf.BPF_ANY);
    }

    public boolean removeLocalAddress(final InetAddress address)
    {
        return vipMap.delete(VipKey.of(address, 0, 0));
    }

    /** @return the number of entries in vip_map (VIP and local entries). */
    public int entryCount()
    {
        return vipMap.keys().size();
    }

    /** Send frames the program redirects on rx queue {@code queue} to AF_XDP socket {@code xskFd}. */
    public void registerXsk(final int queue, final int xskFd)
    {
        requireXdp();
        xsksMap.updateInt(queue, xskFd);
    }

    public boolean unregisterXsk(final int queue)
    {
        requireXdp();
        return xsksMap.deleteInt(queue);
    }

    private void requireXdp()
    {
        if (tc)
        {
            throw new IllegalStateException("the tc variant has no XSK map");
        }
    }

    /** @return per-{@link SteeringCounter} totals over all CPUs, indexed by {@link SteeringCounter#index()}. */
    public long[] actionCounts()
    {
        final long[] totals = new long[SteeringCounter.COUNT];
        for (int i = 0; i < totals.length; i++)
        {
            totals[i] = counters.sumPerCpuLong(i);
        }
        return totals;
    }

    public long count(final SteeringCounter counter)
    {
        return counters.sumPerCpuLong(counter.index());
    }

    /** Detach (closing the link fd) and free the program and maps. */
    @Override
    public void close()
    {
        if (linkFd >= 0)
        {
            final int rc = Libc.close(linkFd);
            linkFd = -1;
            if (rc < 0 && rc != -Errno.EBADF)
            {
                throw new NativeException("close(xdp link)", -rc, null);
            }
        }
        Libc.close(programFd);
        closeAll(vipMap, xsksMap, counters);
    }
}
