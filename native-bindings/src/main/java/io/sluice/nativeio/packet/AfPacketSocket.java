package io.sluice.nativeio.packet;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * AF_PACKET with a TPACKET_V3 receive ring (linux/if_packet.h,
 * https://github.com/torvalds/linux/blob/master/include/uapi/linux/if_packet.h): the fallback for interfaces where no
 * XDP program can attach. The kernel fills blocks of frames in a shared mapping; a block whose status has
 * TP_STATUS_USER belongs to us until we write TP_STATUS_KERNEL back (release store). Frames are sent with one
 * sendto each (a fallback path: simplicity over a TX ring).
 * <p>
 * A packet socket only taps: the kernel still handles every frame it sees. For steered flows attach
 * {@link io.sluice.nativeio.xdp.XdpSteering#attachTcIngress} on the same interface so the kernel drops them after the
 * tap (no RSTs, no port unreachables). Our own transmissions are not looped back (PACKET_IGNORE_OUTGOING).
 */
public final class AfPacketSocket implements PacketIo
{
    static final int SOL_PACKET = 263;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_VERSION = 10;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int TPACKET_V3 = 2;
    static final int ETH_P_ALL = 0x0003;
    static final int TP_STATUS_KERNEL = 0;
    static final int TP_STATUS_USER = 1;

    /** struct tpacket_req3. */
    public static final StructLayout TPACKET_REQ3 = MemoryLayout.structLayout(
        JAVA_INT.withName("tp_block_size"), JAVA_INT.withName("tp_block_nr"), JAVA_INT.withName("tp_frame_size"),
        JAVA_INT.withName("tp_frame_nr"), JAVA_INT.withName("tp_retire_blk_tov"), JAVA_INT.withName("tp_sizeof_priv"),
        JAVA_INT.withName("tp_feature_req_word")).withName("tpacket_req3");
    /** struct sockaddr_ll. */
    public static final StructLayout SOCKADDR_LL = MemoryLayout.structLayout(
        JAVA_SHORT.withName("sll_family"), JAVA_SHORT.withName("sll_protocol"), JAVA_INT.withName("sll_ifindex"),
        JAVA_SHORT.withName("sll_hatype"), JAVA_BYTE.withName("sll_pkttype"), JAVA_BYTE.withName("sll_halen"),
        MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("sll_addr")).withName("sockaddr_ll");
    /** Offsets in struct tpacket_block_desc (version, offset_to_priv, then struct tpacket_hdr_v1). */
    static final long BLOCK_STATUS = 8;
    static final long BLOCK_NUM_PKTS = 12;
    static final long BLOCK_FIRST_PKT = 16;
    /** Offsets in struct tpacket3_hdr. */
    static final long PKT_NEXT_OFFSET = 0;
    static final long PKT_SNAPLEN = 12;
    static final long PKT_MAC = 24;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final io.sluice.nativeio.Availability AVAILABILITY = probe();

    private final int fd;
    private final int ifindex;
    private final int blockSize;
    private final int blockCount;
    private final MemorySegment ring;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment sendBuffer;
    private int block;
    private int packetsLeft;
    private long packetOffset;

    /**
     * Open on {@code ifindex} (calling thread's namespace) with {@code blockCount} blocks of {@code blockSizeBytes}
     * (a multiple of the page size), blocks retired after {@code blockTimeoutMs} even when not full.
     */
    public AfPacketSocket(final int ifindex, final int blockSizeBytes, final int blockCount, final int blockTimeoutMs)
    {
        if (blockSizeBytes % 4096 != 0 || blockCount < 2)
        {
            throw new IllegalArgumentException("blockSizeBytes: " + blockSizeBytes + " must be a multiple of 4096, blockCount >= 2");
        }
        this.ifindex = ifindex;
        this.blockSize = blockSizeBytes;
        this.blockCount = blockCount;
        final int protocol = Short.toUnsignedInt(Short.reverseBytes((short)ETH_P_ALL));
        fd = NativeException.check(Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, protocol),
            "socket(AF_PACKET)", "needs CAP_NET_RAW");
        try (Arena setup = Arena.ofConfined())
        {
            check(Libc.setsockoptInt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3), "setsockopt(PACKET_VERSION, TPACKET_V3)");
            check(Libc.setsockoptInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1), "setsockopt(PACKET_IGNORE_OUTGOING)");
            final MemorySegment req = setup.allocate(TPACKET_REQ3);
            final int frameSize = 2048;
            req.set(JAVA_INT, 0, blockSizeBytes);
            req.set(JAVA_INT, 4, blockCount);
            req.set(JAVA_INT, 8, frameSize);
            req.set(JAVA_INT, 12, blockSizeBytes / frameSize * blockCount);
            req.set(JAVA_INT, 16, blockTimeoutMs);
            check(Libc.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req, (int)req.byteSize()), "setsockopt(PACKET_RX_RING)");
            final long length = (long)blockSizeBytes * blockCount;
            final long address = Libc.mmap(MemorySegment.NULL, length, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, 0);
            NativeException.check(address, "mmap(TPACKET_V3 ring)", null);
            ring = MemorySegment.ofAddress(address).reinterpret(length);
            final MemorySegment sll = setup.allocate(SOCKADDR_LL);
            sll.set(JAVA_SHORT, 0, (short)Libc.AF_PACKET);
            sll.set(JAVA_SHORT, 2, (short)protocol);
            sll.set(JAVA_INT, 4, ifindex);
            check(Libc.bind(fd, sll, (int)sll.byteSize()), "bind(AF_PACKET, ifindex " + ifindex + ")");
        }
        catch (final RuntimeException ex)
        {
            Libc.close(fd);
            arena.close();
            throw ex;
        }
        sendBuffer = arena.allocate(65536, 64);
    }

    /** @return whether packet sockets can be opened here (CAP_NET_RAW). */
    public static boolean isAvailable()
    {
        return AVAILABILITY.available();
    }

    public static String unavailabilityCause()
    {
        return AVAILABILITY.cause();
    }

    private static io.sluice.nativeio.Availability probe()
    {
        try
        {
            final int fd = Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0)
            {
                return io.sluice.nativeio.Availability.unavailable("socket(AF_PACKET) failed with " + Errno.name(-fd)
                    + (fd == -Errno.EPERM ? " (needs CAP_NET_RAW: not root?)" : ""));
            }
            Libc.close(fd);
            return io.sluice.nativeio.Availability.AVAILABLE;
        }
        catch (final RuntimeException | LinkageError ex)
        {
            return io.sluice.nativeio.Availability.unavailable("libc cannot be called: " + ex);
        }
    }

    private void check(final int rc, final String call)
    {
        NativeException.check(rc, call, rc == -Errno.EPERM ? "needs CAP_NET_RAW" : null);
    }

    public int fd()
    {
        return fd;
    }

    public int ifindex()
    {
        return ifindex;
    }

    @Override
    public int receive(final FrameHandler handler, final int limit)
    {
        int count = 0;
        while (count < limit)
        {
            final long blockBase = (long)block * blockSize;
            if (packetsLeft == 0)
            {
                final int status = (int)INT.getAcquire(ring, blockBase + BLOCK_STATUS);
                if ((status & TP_STATUS_USER) == 0)
                {
                    break;
                }
                packetsLeft = ring.get(JAVA_INT, blockBase + BLOCK_NUM_PKTS);
                packetOffset = blockBase + ring.get(JAVA_INT, blockBase + BLOCK_FIRST_PKT);
                if (packetsLeft == 0)
                {
                    releaseBlock(blockBase);
                    continue;
                }
            }
            final int snaplen = ring.get(JAVA_INT, packetOffset + PKT_SNAPLEN);
            final int mac = Short.toUnsignedInt(ring.get(JAVA_SHORT, packetOffset + PKT_MAC));
            handler.onFrame(ring, packetOffset + mac, snaplen);
            count++;
            packetsLeft--;
            if (packetsLeft == 0)
            {
                releaseBlock(blockBase);
            }
            else
            {
                packetOffset += ring.get(JAVA_INT, packetOffset + PKT_NEXT_OFFSET);
            }
        }
        return count;
    }

    private void releaseBlock(final long blockBase)
    {
        INT.setRelease(ring, blockBase + BLOCK_STATUS, TP_STATUS_KERNEL);
        block = (block + 1) % blockCount;
    }

    @Override
    public boolean send(final MemorySegment frame, final long offset, final int length)
    {
        MemorySegment.copy(frame, offset, sendBuffer, 0, length);
        final long rc = Libc.sendto(fd, sendBuffer, length, Libc.MSG_DONTWAIT, MemorySegment.NULL, 0);
        return rc == length;
    }

    /** Frames go out in {@link #send}: nothing is queued. */
    @Override
    public int flush()
    {
        return 0;
    }

    @Override
    public String kind()
    {
        return "af_packet";
    }

    @Override
    public void close()
    {
        Libc.munmap(ring, ring.byteSize());
        Libc.close(fd);
        arena.close();
    }
}
