package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Availability;
import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;
import io.sluice.nativeio.NetNs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An AF_XDP socket bound to one (interface, queue), with its rx/tx rings and, when it owns them, the UMEM's fill and
 * completion rings.
 * <p>
 * The first socket on a {@link Umem} registers it and owns its fill/completion rings. A later socket on the same
 * (interface, queue) shares those rings; one on another queue or interface gets fill/completion rings of its own
 * (kernel ≥ 5.10). A sharing socket binds with flags exactly {@code XDP_SHARED_UMEM}: copy/zero-copy and
 * need_wakeup are inherited from the owner and the kernel refuses anything else.
 * <p>
 * Ring offsets come from {@code getsockopt(XDP_MMAP_OFFSETS)}: never hard-coded. Close sharing sockets before the
 * owner: a same-queue sharer uses the owner's mapped fill/completion rings, and the UMEM stays registered through it.
 * Data-path methods ({@link #kickTx()}, {@link #wakeupRx()}) return 0 or {@code -errno} and allocate nothing.
 */
public final class XskSocket implements AutoCloseable
{
    private static final Availability AVAILABILITY = probe();

    private final int fd;
    private final Umem umem;
    private final int ifindex;
    private final int queue;
    private final String netns;
    private final XskRing rx;
    private final XskRing tx;
    private final XskRing fill;
    private final XskRing completion;
    private final boolean ownsFillAndCompletion;
    private final boolean zeroCopy;
    private final boolean needWakeup;
    private final String zeroCopyFallbackReason;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment statistics = arena.allocate(XdpLayouts.XDP_STATISTICS_LAYOUT);
    private final MemorySegment optlen = arena.allocate(JAVA_INT);

    private XskSocket(final Umem umem, final int ifindex, final int queue, final XskConfig config, final boolean zeroCopyAttempt,
        final String fallbackReason)
    {
        this.umem = umem;
        this.ifindex = ifindex;
        this.queue = queue;
        final XskSocket owner = umem.owner();
        final boolean shared = owner != null;
        this.netns = NetNs.current();
        // Interface indices are per namespace: ifindex 2 in one namespace is not ifindex 2 in another.
        final boolean sameQueue = shared && owner.ifindex == ifindex && owner.queue == queue && owner.netns.equals(netns);
        fd = NativeException.check(Libc.socket(Libc.AF_XDP, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0), "socket(AF_XDP)",
            "needs CONFIG_XDP_SOCKETS and CAP_NET_RAW");
        XskRing rxRing = null;
        XskRing txRing = null;
        XskRing fillRing = null;
        XskRing completionRing = null;
        try (Arena setup = Arena.ofConfined())
        {
            if (!shared)
            {
                final MemorySegment reg = setup.allocate(XdpLayouts.XDP_UMEM_REG_LAYOUT);
                reg.set(JAVA_LONG, 0, umem.segment().address());
                reg.set(JAVA_LONG, 8, umem.segment().byteSize());
                reg.set(JAVA_INT, 16, umem.frameSize());
                reg.set(JAVA_INT, 20, umem.config().headroomBytes());
                check(Libc.setsockopt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_UMEM_REG, reg, (int)reg.byteSize()),
                    "setsockopt(XDP_UMEM_REG)", "frame size must be a power of two ≥ 2048; RLIMIT_MEMLOCK");
            }
            if (!sameQueue)
            {
                check(Libc.setsockoptInt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_UMEM_FILL_RING, config.fillRingSize()),
                    "setsockopt(XDP_UMEM_FILL_RING)", null);
                check(Libc.setsockoptInt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_UMEM_COMPLETION_RING,
                    config.completionRingSize()), "setsockopt(XDP_UMEM_COMPLETION_RING)", null);
            }
            if (config.rxRingSize() > 0)
            {
                check(Libc.setsockoptInt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_RX_RING, config.rxRingSize()),
                    "setsockopt(XDP_RX_RING)", null);
            }
            if (config.txRingSize() > 0)
            {
                check(Libc.setsockoptInt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_TX_RING, config.txRingSize()),
                    "setsockopt(XDP_TX_RING)", null);
            }
            final MemorySegment offsets = setup.allocate(XdpLayouts.XDP_MMAP_OFFSETS_LAYOUT);
            final MemorySegment length = setup.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, (int)offsets.byteSize());
            check(Libc.getsockopt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_MMAP_OFFSETS, offsets, length),
                "getsockopt(XDP_MMAP_OFFSETS)", null);
            final int descSize = (int)XdpLayouts.XDP_DESC.byteSize();
            if (config.rxRingSize() > 0)
            {
                rxRing = mapRing(offsets, "rx", XdpLayouts.XDP_PGOFF_RX_RING, config.rxRingSize(), descSize, false);
            }
            if (config.txRingSize() > 0)
            {
                txRing = mapRing(offsets, "tx", XdpLayouts.XDP_PGOFF_TX_RING, config.txRingSize(), descSize, true);
            }
            if (!sameQueue)
            {
                fillRing = mapRing(offsets, "fr", XdpLayouts.XDP_UMEM_PGOFF_FILL_RING, config.fillRingSize(), 8, true);
                completionRing = mapRing(offsets, "cr", XdpLayouts.XDP_UMEM_PGOFF_COMPLETION_RING,
                    config.completionRingSize(), 8, false);
            }
            else
            {
                fillRing = owner.fill;
                completionRing = owner.completion;
            }

            final MemorySegment address = setup.allocate(XdpLayouts.SOCKADDR_XDP);
            address.set(JAVA_SHORT, 0, (short)Libc.AF_XDP);
            address.set(JAVA_INT, 4, ifindex);
            address.set(JAVA_INT, 8, queue);
            String reason = null;
            boolean zc = false;
            if (shared)
            {
                address.set(JAVA_SHORT, 2, (short)XdpLayouts.XDP_SHARED_UMEM);
                address.set(JAVA_INT, 12, owner.fd);
                check(bindRetryingBusy(address), "bind(AF_XDP shared umem, ifindex " + ifindex
                    + " queue " + queue + ")", "a sharing socket binds with XDP_SHARED_UMEM only; queue must exist");
                zc = owner.zeroCopy;
                reason = owner.zeroCopyFallbackReason;
            }
            else
            {
                final int wakeup = config.needWakeup() ? XdpLayouts.XDP_USE_NEED_WAKEUP : 0;
                address.set(JAVA_SHORT, 2, (short)((zeroCopyAttempt ? XdpLayouts.XDP_ZEROCOPY : XdpLayouts.XDP_COPY) | wakeup));
                final int rc = bindRetryingBusy(address);
                check(rc, "bind(AF_XDP " + (zeroCopyAttempt ? "zero-copy" : "copy") + ", ifindex " + ifindex + " queue " + queue
                    + ")", zeroCopyAttempt ? zeroCopyHint(rc) : "does the interface exist in this namespace and have this queue?");
                zc = zeroCopyAttempt;
                reason = fallbackReason;
            }
            zeroCopy = zc;
            zeroCopyFallbackReason = reason;
            needWakeup = shared ? owner.needWakeup : config.needWakeup();
            if (config.busyPollMicros() > 0)
            {
                check(Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_PREFER_BUSY_POLL, 1), "setsockopt(SO_PREFER_BUSY_POLL)", null);
                check(Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_BUSY_POLL, config.busyPollMicros()),
                    "setsockopt(SO_BUSY_POLL)", null);
                check(Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_BUSY_POLL_BUDGET, Math.max(1, config.busyPollBudget())),
                    "setsockopt(SO_BUSY_POLL_BUDGET)", null);
            }
        }
        catch (final RuntimeException ex)
        {
            unmap(rxRing, txRing, sameQueue ? null : fillRing, sameQueue ? null : completionRing);
            Libc.close(fd);
            arena.close();
            throw ex;
        }
        rx = rxRing;
        tx = txRing;
        fill = fillRing;
        completion = completionRing;
        ownsFillAndCompletion = !sameQueue;
        if (!shared)
        {
            umem.owner(this);
        }
    }

    /**
     * Bind, retrying EBUSY for up to a second: the kernel releases a closed socket's queue from a work queue, so a
     * queue given up a moment ago (a refused zero-copy attempt, a restarted forwarder) can still look taken.
     */
    private int bindRetryingBusy(final MemorySegment address)
    {
        int rc = Libc.bind(fd, address, (int)address.byteSize());
        for (int attempt = 0; rc == -Errno.EBUSY && attempt < 100; attempt++)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
            rc = Libc.bind(fd, address, (int)address.byteSize());
        }
        return rc;
    }

    private static String zeroCopyHint(final int rc)
    {
        return rc == -Errno.EOPNOTSUPP || rc == -Errno.ENOTSUP
            ? "the driver has no AF_XDP zero-copy (veth never has) or the XDP program is not attached natively"
            : "is the XDP program attached in native mode?";
    }

    private XskRing mapRing(final MemorySegment offsets, final String ring, final long pgoff, final int size, final int entrySize,
        final boolean producer)
    {
        return XskRing.map(fd, pgoff, size, entrySize, producer,
            offsets.get(JAVA_LONG, XdpLayouts.ringOffsetField(ring, "producer")),
            offsets.get(JAVA_LONG, XdpLayouts.ringOffsetField(ring, "consumer")),
            offsets.get(JAVA_LONG, XdpLayouts.ringOffsetField(ring, "desc")),
            offsets.get(JAVA_LONG, XdpLayouts.ringOffsetField(ring, "flags")));
    }

    private static void unmap(final XskRing... rings)
    {
        for (final XskRing ring : rings)
        {
            if (ring != null)
            {
                ring.unmap();
            }
        }
    }

    private static void check(final int rc, final String call, final String hint)
    {
        NativeException.check(rc, call, hint);
    }

    /** Open a socket on (ifindex, queue) in the calling thread's network namespace. */
    public static XskSocket open(final Umem umem, final int ifindex, final int queue, final XskConfig config)
    {
        if (umem.owner() != null || config.bindMode() == XskConfig.BindMode.COPY)
        {
            return new XskSocket(umem, ifindex, queue, config, false, null);
        }
        if (config.bindMode() == XskConfig.BindMode.ZERO_COPY)
        {
            return new XskSocket(umem, ifindex, queue, config, true, null);
        }
        try
        {
            return new XskSocket(umem, ifindex, queue, config, true, null);
        }
        catch (final NativeException ex)
        {
            // A refused zero-copy bind can leave the queue busy for this socket: start over with a fresh one.
            final String reason = "zero-copy bind failed with " + ex.errnoName() + ": " + zeroCopyHint(-ex.errno());
            return new XskSocket(umem, ifindex, queue, config, false, reason);
        }
    }

    /** @return whether AF_XDP sockets can be created here. */
    public static boolean isAvailable()
    {
        return AVAILABILITY.available();
    }

    public static String unavailabilityCause()
    {
        return AVAILABILITY.cause();
    }

    private static Availability probe()
    {
        try
        {
            final int fd = Libc.socket(Libc.AF_XDP, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0)
            {
                return Availability.unavailable("socket(AF_XDP) failed with " + Errno.name(-fd)
                    + (fd == -Errno.EAFNOSUPPORT ? " (kernel built without CONFIG_XDP_SOCKETS)" : "")
                    + (fd == -Errno.EPERM ? " (needs CAP_NET_RAW: not root?)" : ""));
            }
            Libc.close(fd);
            return Availability.AVAILABLE;
        }
        catch (final RuntimeException | LinkageError ex)
        {
            return Availability.unavailable("libc cannot be called: " + ex);
        }
    }

    public int fd()
    {
        return fd;
    }

    public Umem umem()
    {
        return umem;
    }

    public int ifindex()
    {
        return ifindex;
    }

    public int queue()
    {
        return queue;
    }

    /** @return the rx ring (null for a transmit-only socket). */
    public XskRing rx()
    {
        return rx;
    }

    /** @return the tx ring (null for a receive-only socket). */
    public XskRing tx()
    {
        return tx;
    }

    /** @return the fill ring this socket's queue draws on (shared with the owner on the same queue). */
    public XskRing fill()
    {
        return fill;
    }

    public XskRing completion()
    {
        return completion;
    }

    public boolean isZeroCopy()
    {
        return zeroCopy;
    }

    /** @return why zero-copy was tried and not used, or null. */
    public String zeroCopyFallbackReason()
    {
        return zeroCopyFallbackReason;
    }

    public boolean usesNeedWakeup()
    {
        return needWakeup;
    }

    /**
     * Tell the kernel there are tx descriptors (copy mode transmits inside this call). With need_wakeup only when
     * {@code tx().needsWakeup()}.
     *
     * @return 0, or -errno; EAGAIN/EBUSY/ENOBUFS mean "try again later" and are not failures.
     */
    public int kickTx()
    {
        final long rc = Libc.sendto(fd, MemorySegment.NULL, 0, Libc.MSG_DONTWAIT, MemorySegment.NULL, 0);
        return rc >= 0 ? 0 : (int)rc;
    }

    /** @return true when tx needs a kick: always without need_wakeup, else when the kernel set the flag. */
    public boolean txNeedsKick()
    {
        return !needWakeup || tx.needsWakeup();
    }

    /** Make the kernel refill rx from the fill ring (when {@code fill().needsWakeup()}); 0 or -errno. */
    public int wakeupRx()
    {
        final long rc = Libc.recvfromNoData(fd, Libc.MSG_DONTWAIT);
        return rc >= 0 || rc == -Errno.EAGAIN ? 0 : (int)rc;
    }

    /** XDP_STATISTICS, in xdp_statistics field order. */
    public record Statistics(long rxDropped, long rxInvalidDescs, long txInvalidDescs, long rxRingFull, long rxFillRingEmptyDescs,
        long txRingEmptyDescs)
    {
    }

    /** @return the socket's XDP_STATISTICS (control path: allocates the record). */
    public synchronized Statistics statistics()
    {
        optlen.set(JAVA_INT, 0, (int)statistics.byteSize());
        NativeException.check(Libc.getsockopt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_STATISTICS, statistics, optlen),
            "getsockopt(XDP_STATISTICS)", null);
        return new Statistics(statistics.get(JAVA_LONG, 0), statistics.get(JAVA_LONG, 8), statistics.get(JAVA_LONG, 16),
            statistics.get(JAVA_LONG, 24), statistics.get(JAVA_LONG, 32), statistics.get(JAVA_LONG, 40));
    }

    /** @return whether the kernel reports the socket bound in zero-copy mode (XDP_OPTIONS). */
    public boolean kernelReportsZeroCopy()
    {
        try (Arena setup = Arena.ofConfined())
        {
            final MemorySegment options = setup.allocate(XdpLayouts.XDP_OPTIONS_LAYOUT);
            final MemorySegment length = setup.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, 4);
            NativeException.check(Libc.getsockopt(fd, XdpLayouts.SOL_XDP, XdpLayouts.XDP_OPTIONS, options, length),
                "getsockopt(XDP_OPTIONS)", null);
            return (options.get(JAVA_INT, 0) & XdpLayouts.XDP_OPTIONS_ZEROCOPY) != 0;
        }
    }

    @Override
    public void close()
    {
        unmap(rx, tx, ownsFillAndCompletion ? fill : null, ownsFillAndCompletion ? completion : null);
        Libc.close(fd);
        arena.close();
    }
}
