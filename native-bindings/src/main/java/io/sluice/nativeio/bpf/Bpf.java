package io.sluice.nativeio.bpf;

import io.sluice.nativeio.Availability;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * bpf(2) through libc {@code syscall()}: no libbpf. Each command fills the part of {@code union bpf_attr}
 * (linux/bpf.h, https://github.com/torvalds/linux/blob/master/include/uapi/linux/bpf.h) it uses; the kernel
 * requires the rest of the attr it was given to be zero.
 * <p>
 * The element calls take caller-owned segments and return 0 or {@code -errno}: usable without allocation once the
 * caller holds an attr segment ({@link #ATTR_ELEM_SIZE} bytes). Setup calls throw {@link NativeException}.
 */
public final class Bpf
{
    public static final int BPF_MAP_CREATE = 0;
    public static final int BPF_MAP_LOOKUP_ELEM = 1;
    public static final int BPF_MAP_UPDATE_ELEM = 2;
    public static final int BPF_MAP_DELETE_ELEM = 3;
    public static final int BPF_MAP_GET_NEXT_KEY = 4;
    public static final int BPF_PROG_LOAD = 5;
    public static final int BPF_PROG_TEST_RUN = 10;
    public static final int BPF_MAP_UPDATE_BATCH = 26;
    public static final int BPF_MAP_DELETE_BATCH = 27;
    public static final int BPF_LINK_CREATE = 28;
    public static final int BPF_LINK_DETACH = 34;

    public static final int BPF_MAP_TYPE_HASH = 1;
    public static final int BPF_MAP_TYPE_ARRAY = 2;
    public static final int BPF_MAP_TYPE_PERCPU_ARRAY = 6;
    public static final int BPF_MAP_TYPE_LPM_TRIE = 11;
    public static final int BPF_MAP_TYPE_XSKMAP = 17;

    public static final int BPF_PROG_TYPE_SCHED_CLS = 3;
    public static final int BPF_PROG_TYPE_XDP = 6;
    /** enum bpf_attach_type BPF_TCX_INGRESS (kernel ≥ 6.6): tc ingress through a link, gone with the process. */
    public static final int BPF_TCX_INGRESS = 46;
    /** enum bpf_attach_type BPF_XDP. */
    public static final int BPF_XDP = 37;

    public static final long BPF_ANY = 0;
    public static final long BPF_NOEXIST = 1;
    public static final long BPF_EXIST = 2;
    /** LPM tries must be created without preallocation. */
    public static final int BPF_F_NO_PREALLOC = 1;

    /** XDP_FLAGS_* for BPF_LINK_CREATE (linux/if_link.h): 0 lets the kernel pick native when the driver has it. */
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;

    /** Sizes of the bpf_attr prefixes each command uses (checked against this kernel, see FACTS.md). */
    public static final int ATTR_MAP_CREATE_SIZE = 80;
    public static final int ATTR_ELEM_SIZE = 32;
    /** The {@code batch} member of union bpf_attr: in_batch, out_batch, keys, values, count, map_fd, elem_flags, flags. */
    public static final int ATTR_BATCH_SIZE = 48;
    public static final int ATTR_PROG_LOAD_SIZE = 152;
    public static final int ATTR_LINK_CREATE_SIZE = 64;
    public static final int ATTR_TEST_RUN_SIZE = 80;

    /** Size of struct xdp_md (data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex). */
    public static final int XDP_MD_SIZE = 24;
    /** Offset of ingress_ifindex in struct xdp_md. */
    public static final int XDP_MD_INGRESS_IFINDEX = 12;

    private static final Availability AVAILABILITY = probe();

    private Bpf()
    {
    }

    /** @return whether bpf(2) can create maps here (needs CAP_BPF/root and a kernel with the syscall). */
    public static boolean isAvailable()
    {
        return AVAILABILITY.available();
    }

    public static String unavailabilityCause()
    {
        return AVAILABILITY.cause();
    }

    public static Availability availability()
    {
        return AVAILABILITY;
    }

    private static Availability probe()
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = arena.allocate(ATTR_MAP_CREATE_SIZE, 8);
            attr.set(JAVA_INT, 0, BPF_MAP_TYPE_ARRAY);
            attr.set(JAVA_INT, 4, 4);
            attr.set(JAVA_INT, 8, 4);
            attr.set(JAVA_INT, 12, 1);
            final long fd = sys(BPF_MAP_CREATE, attr, ATTR_MAP_CREATE_SIZE);
            if (fd < 0)
            {
                return Availability.unavailable("bpf(BPF_MAP_CREATE) failed with " + io.sluice.nativeio.Errno.name((int)-fd)
                    + (Libc.isRoot() ? "" : " (not root: needs CAP_BPF and CAP_NET_ADMIN)"));
            }
            Libc.close((int)fd);
            return Availability.AVAILABLE;
        }
        catch (final RuntimeException | LinkageError ex)
        {
            return Availability.unavailable("bpf(2) cannot be called: " + ex);
        }
    }

    /** @return the syscall result: a new fd or 0, or -errno. */
    public static long sys(final int command, final MemorySegment attr, final int size)
    {
        return Libc.syscall(Libc.SYS_BPF, command, attr.address(), size, 0, 0, 0);
    }

    /** Create a map; returns its fd. */
    public static int mapCreate(final int type, final int keySize, final int valueSize, final int maxEntries, final int flags,
        final String name)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = arena.allocate(ATTR_MAP_CREATE_SIZE, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, keySize);
            attr.set(JAVA_INT, 8, valueSize);
            attr.set(JAVA_INT, 12, maxEntries);
            attr.set(JAVA_INT, 16, flags);
            writeName(attr, 28, name);
            return (int)NativeException.check(sys(BPF_MAP_CREATE, attr, ATTR_MAP_CREATE_SIZE),
                "bpf(BPF_MAP_CREATE " + name + ")", "needs CAP_BPF; check the key/value sizes for this map type");
        }
    }

    /**
     * Element command ({@link #BPF_MAP_LOOKUP_ELEM}, UPDATE, DELETE, GET_NEXT_KEY) with a caller-owned attr segment.
     *
     * @return 0 or -errno (ENOENT: no such key / no next key).
     */
    public static int elem(final MemorySegment attr, final int command, final int mapFd, final MemorySegment key,
        final MemorySegment valueOrNextKey, final long flags)
    {
        attr.set(JAVA_INT, 0, mapFd);
        attr.set(JAVA_INT, 4, 0);
        attr.set(JAVA_LONG, 8, key.address());
        attr.set(JAVA_LONG, 16, valueOrNextKey.address());
        attr.set(JAVA_LONG, 24, flags);
        return (int)sys(command, attr, ATTR_ELEM_SIZE);
    }

    /**
     * BPF_MAP_UPDATE_BATCH or BPF_MAP_DELETE_BATCH (values NULL) over {@code count} keys (and values) laid end to end,
     * with a caller-owned attr segment of {@link #ATTR_BATCH_SIZE}. The kernel stops at the first element that fails.
     *
     * @return 0 or -errno; {@code processed[0]} is set to the number of elements done before any failure.
     */
    public static int batch(final MemorySegment attr, final int command, final int mapFd, final MemorySegment keys,
        final MemorySegment values, final int count, final long elemFlags, final int[] processed)
    {
        attr.fill((byte)0);
        attr.set(JAVA_LONG, 16, keys.address());
        attr.set(JAVA_LONG, 24, values.address());
        attr.set(JAVA_INT, 32, count);
        attr.set(JAVA_INT, 36, mapFd);
        attr.set(JAVA_LONG, 40, elemFlags);
        final int rc = (int)sys(command, attr, ATTR_BATCH_SIZE);
        processed[0] = attr.get(JAVA_INT, 32);
        return rc;
    }

    /** Load a program; on refusal the exception is a {@link BpfVerifierException} carrying the verifier log. */
    public static int progLoad(final int type, final int expectedAttachType, final long[] instructions, final String name)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment insns = arena.allocate(instructions.length * 8L, 8);
            MemorySegment.copy(instructions, 0, insns, JAVA_LONG, 0, instructions.length);
            final MemorySegment license = arena.allocateFrom("GPL");
            final int logSize = 1 << 20;
            final MemorySegment log = arena.allocate(logSize);
            final MemorySegment attr = arena.allocate(ATTR_PROG_LOAD_SIZE, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, instructions.length);
            attr.set(JAVA_LONG, 8, insns.address());
            attr.set(JAVA_LONG, 16, license.address());
            attr.set(JAVA_INT, 24, 0);
            writeName(attr, 48, name);
            attr.set(JAVA_INT, 68, expectedAttachType);
            long fd = sys(BPF_PROG_LOAD, attr, ATTR_PROG_LOAD_SIZE);
            if (fd >= 0)
            {
                return (int)fd;
            }
            // Load again with a log only on refusal: logging slows every successful load down.
            attr.set(JAVA_INT, 24, 1);
            attr.set(JAVA_INT, 28, logSize);
            attr.set(JAVA_LONG, 32, log.address());
            fd = sys(BPF_PROG_LOAD, attr, ATTR_PROG_LOAD_SIZE);
            if (fd >= 0)
            {
                return (int)fd;
            }
            final String text = log.getString(0);
            throw new BpfVerifierException("bpf(BPF_PROG_LOAD " + name + ")", (int)-fd, text);
        }
    }

    /** Attach {@code progFd} to {@code ifindex} as XDP through a BPF link; the link (and program) go when the fd closes. */
    public static int linkCreateXdp(final int progFd, final int ifindex, final int xdpFlags)
    {
        return linkCreate(progFd, ifindex, BPF_XDP, xdpFlags);
    }

    /** BPF_LINK_CREATE for a device-attached program ({@link #BPF_XDP}, {@link #BPF_TCX_INGRESS}); returns the link fd. */
    public static int linkCreate(final int progFd, final int ifindex, final int attachType, final int flags)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = arena.allocate(ATTR_LINK_CREATE_SIZE, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, ifindex);
            attr.set(JAVA_INT, 8, attachType);
            attr.set(JAVA_INT, 12, flags);
            return (int)NativeException.check(sys(BPF_LINK_CREATE, attr, ATTR_LINK_CREATE_SIZE),
                "bpf(BPF_LINK_CREATE, ifindex " + ifindex + ", attach type " + attachType + ", flags " + flags + ")",
                "EBUSY: another XDP program is attached; EOPNOTSUPP/EINVAL: the driver has no native XDP (use generic mode)");
        }
    }

    /** Result of {@link #testRun}: the program's return value and the packet as it left. */
    /** @param durationNs the kernel's mean time per run (its {@code duration}: the program alone, no syscall). */
    public record TestRun(int retval, byte[] dataOut, int durationNs)
    {
    }

    /** Run an XDP program once on {@code packet} without a device (BPF_PROG_TEST_RUN). */
    public static TestRun testRun(final int progFd, final byte[] packet)
    {
        return testRun(progFd, packet, 0);
    }

    /**
     * Run an XDP program once on {@code packet} as if it arrived on {@code ingressIfindex} (queue 0) of the calling
     * thread's namespace (0: no device). The kernel takes the ctx only with data = data_meta = 0 and data_end = the
     * packet's length; a device must have its rx queue 0 registered for XDP, which every device does (loopback too).
     */
    public static TestRun testRun(final int progFd, final byte[] packet, final int ingressIfindex)
    {
        return testRun(progFd, packet, ingressIfindex, 1);
    }

    /**
     * Runs an XDP program {@code repeat} times on one copy of {@code packet} (BPF_PROG_TEST_RUN without a device; the
     * program's rewrites stay in the buffer from one run to the next).
     *
     * @return the kernel's mean time per run in ns (its {@code duration}: the program alone, no syscall).
     */
    public static int testRunTimed(final int progFd, final byte[] packet, final int repeat)
    {
        return testRun(progFd, packet, 0, repeat).durationNs();
    }

    private static TestRun testRun(final int progFd, final byte[] packet, final int ingressIfindex, final int repeat)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment in = arena.allocate(Math.max(packet.length, 1));
            MemorySegment.copy(packet, 0, in, JAVA_BYTE, 0, packet.length);
            final int outSize = packet.length + 512;
            final MemorySegment out = arena.allocate(outSize);
            final MemorySegment attr = arena.allocate(ATTR_TEST_RUN_SIZE, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, 0);
            attr.set(JAVA_INT, 8, packet.length);
            attr.set(JAVA_INT, 12, outSize);
            attr.set(JAVA_LONG, 16, in.address());
            attr.set(JAVA_LONG, 24, out.address());
            attr.set(JAVA_INT, 32, repeat);
            if (ingressIfindex != 0)
            {
                final MemorySegment ctx = arena.allocate(XDP_MD_SIZE, 8);
                ctx.set(JAVA_INT, 4, packet.length);
                ctx.set(JAVA_INT, XDP_MD_INGRESS_IFINDEX, ingressIfindex);
                attr.set(JAVA_INT, 40, XDP_MD_SIZE);
                attr.set(JAVA_LONG, 48, ctx.address());
            }
            NativeException.check(sys(BPF_PROG_TEST_RUN, attr, ATTR_TEST_RUN_SIZE), "bpf(BPF_PROG_TEST_RUN)", null);
            final int retval = attr.get(JAVA_INT, 4);
            final int sizeOut = attr.get(JAVA_INT, 12);
            return new TestRun(retval, out.asSlice(0, Math.min(sizeOut, outSize)).toArray(JAVA_BYTE), attr.get(JAVA_INT, 36));
        }
    }

    private static void writeName(final MemorySegment attr, final long offset, final String name)
    {
        if (name == null)
        {
            return;
        }
        final byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        // BPF_OBJ_NAME_LEN is 16 including the NUL; the kernel accepts only [A-Za-z0-9_.].
        final int length = Math.min(bytes.length, 15);
        MemorySegment.copy(bytes, 0, attr, JAVA_BYTE, offset, length);
    }
}
