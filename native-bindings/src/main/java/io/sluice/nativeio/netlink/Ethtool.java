package io.sluice.nativeio.netlink;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The few ethtool settings (linux/ethtool.h, SIOCETHTOOL ioctl) AF_XDP on veth needs.
 * <p>
 * Why: a veth with TX checksum offload on (its default) hands kernel-sent frames to XDP/AF_XDP with a partial
 * checksum (CHECKSUM_PARTIAL: only the pseudo-header sum is filled in), so a forwarder that passes them on
 * sends frames with bad checksums. Turning it off on the sending side makes the kernel finish the checksum.
 */
public final class Ethtool
{
    static final long SIOCETHTOOL = 0x8946;
    static final int ETHTOOL_GTXCSUM = 0x16;
    static final int ETHTOOL_STXCSUM = 0x17;
    /** sizeof(struct ifreq) on x86_64: 16-byte name + 24-byte union. */
    static final int IFREQ_SIZE = 40;

    private Ethtool()
    {
    }

    /** Turn TX checksum offload on or off for {@code ifname} (in the calling thread's namespace). */
    public static void txChecksumOffload(final String ifname, final boolean enabled)
    {
        value(ifname, ETHTOOL_STXCSUM, enabled ? 1 : 0, "ETHTOOL_STXCSUM");
    }

    /** @return whether TX checksum offload is on for {@code ifname}. */
    public static boolean txChecksumOffload(final String ifname)
    {
        return value(ifname, ETHTOOL_GTXCSUM, 0, "ETHTOOL_GTXCSUM") != 0;
    }

    private static int value(final String ifname, final int command, final int data, final String what)
    {
        final int fd = NativeException.check(Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0),
            "socket(AF_INET)", null);
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment ethtoolValue = arena.allocate(8, 8);
            ethtoolValue.set(JAVA_INT, 0, command);
            ethtoolValue.set(JAVA_INT, 4, data);
            final MemorySegment ifreq = arena.allocate(IFREQ_SIZE, 8);
            final byte[] name = ifname.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            if (name.length > 15)
            {
                throw new IllegalArgumentException("ifname: '" + ifname + "' is longer than 15 characters");
            }
            MemorySegment.copy(name, 0, ifreq, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, name.length);
            ifreq.set(ADDRESS, 16, ethtoolValue);
            NativeException.check(Libc.ioctl(fd, SIOCETHTOOL, ifreq), "ioctl(SIOCETHTOOL, " + what + ", " + ifname + ")",
                "needs CAP_NET_ADMIN and an existing interface");
            return ethtoolValue.get(JAVA_INT, 4);
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
