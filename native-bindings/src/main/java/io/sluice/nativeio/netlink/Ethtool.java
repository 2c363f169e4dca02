package io.sluice.nativeio.netlink;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import io.sluice.nativeio.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few ethtool settings (linux/ethtool.h, SIOCETHTOOL ioctl) AF_XDP on veth needs.
 * <p>
 * Why: a veth with TX checksum offload on (its default) hands kernel-sent frames to XDP/AF_XDP with a partial
 * checksum (CHECKSUM_PARTIAL: only the pseudo-header sum is filled in), so a forwarder that passes them on
 * sends frames with bad checksums. Turning it off on the sending side makes the kernel finish the checksum.
 * <p>
 * And n-tuple (flow steering) rules, ETHTOOL_SRXCLSRLINS / ETHTOOL_SRXCLSRLDEL: frames to one destination address and
 * (masked) port go to one RX queue. Only NIC drivers with n-tuple filters have them (ixgbe, i40e, ice, mlx5 ... with
 * {@code ethtool -K IF ntuple on}); veth and most virtual devices refuse with EOPNOTSUPP.
 */
public final class Ethtool
{
    static final long SIOCETHTOOL = 0x8946;
    static final int ETHTOOL_GDRVINFO = 0x03;
    /** sizeof(struct ethtool_drvinfo): cmd, five 32-byte strings, 12 reserved bytes, five u32 counts. */
    static final int DRVINFO_SIZE = 196;
    /** Offset and length of ethtool_drvinfo.driver. */
    static final int DRVINFO_DRIVER = 4;
    static final int DRVINFO_DRIVER_LENGTH = 32;
    static final int ETHTOOL_GTXCSUM = 0x16;
    static final int ETHTOOL_STXCSUM = 0x17;
    /** sizeof(struct ifreq) on x86_64: 16-byte name + 24-byte union. */
    static final int IFREQ_SIZE = 40;
    /** Offset of ifr_data (the pointer to the ethtool command struct) in struct ifreq. */
    static final int IFREQ_DATA = 16;

    /** ethtool_rxnfc commands (linux/ethtool.h). */
    static final int ETHTOOL_GRXCLSRLCNT = 0x2e;
    static final int ETHTOOL_GRXCLSRULE = 0x2f;
    static final int ETHTOOL_GRXCLSRLALL = 0x30;
    static final int ETHTOOL_SRXCLSRLDEL = 0x31;
    static final int ETHTOOL_SRXCLSRLINS = 0x32;

    /** ethtool_rx_flow_spec.flow_type values. */
    static final int TCP_V4_FLOW = 0x01;
    static final int UDP_V4_FLOW = 0x02;
    static final int TCP_V6_FLOW = 0x05;
    static final int UDP_V6_FLOW = 0x06;

    /** In GRXCLSRLCNT's data: the driver chooses locations itself when given one of the special values. */
    static final long RX_CLS_LOC_SPECIAL = 0x80000000L;
    /** fs.location asking the driver to choose any free location (it writes the one it chose back). */
    static final int RX_CLS_LOC_ANY = 0xffffffff;

    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    /** struct ethtool_tcpip4_spec { __be32 ip4src; __be32 ip4dst; __be16 psrc; __be16 pdst; __u8 tos; }. */
    static final StructLayout ETHTOOL_TCPIP4_SPEC = MemoryLayout.structLayout(
        MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("ip4src"), MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("ip4dst"),
        BE16.withName("psrc"), BE16.withName("pdst"), JAVA_BYTE.withName("tos")).withName("ethtool_tcpip4_spec");

    /** struct ethtool_tcpip6_spec { __be32 ip6src[4]; __be32 ip6dst[4]; __be16 psrc; __be16 pdst; __u8 tclass; }. */
    static final StructLayout ETHTOOL_TCPIP6_SPEC = MemoryLayout.structLayout(
        MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("ip6src"), MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("ip6dst"),
        BE16.withName("psrc"), BE16.withName("pdst"), JAVA_BYTE.withName("tclass")).withName("ethtool_tcpip6_spec");

    /** union ethtool_flow_union: the per-flow-type specs, 52 bytes (hdata). Only the TCP/UDP members are named here. */
    static final UnionLayout ETHTOOL_FLOW_UNION = MemoryLayout.unionLayout(
        ETHTOOL_TCPIP4_SPEC.withName("tcp_ip4_spec"), ETHTOOL_TCPIP4_SPEC.withName("udp_ip4_spec"),
        ETHTOOL_TCPIP6_SPEC.withName("tcp_ip6_spec"), ETHTOOL_TCPIP6_SPEC.withName("udp_ip6_spec"),
        MemoryLayout.sequenceLayout(52, JAVA_BYTE).withName("hdata")).withName("ethtool_flow_union");

    /**
     * struct ethtool_rx_flow_spec { __u32 flow_type; union ethtool_flow_union h_u; struct ethtool_flow_ext h_ext;
     * union ethtool_flow_union m_u; struct ethtool_flow_ext m_ext; __u64 ring_cookie; __u32 location; }.
     * ethtool_flow_ext (20 bytes: VLAN, destination MAC, user data) is left zero here, so it is opaque bytes.
     */
    static final StructLayout ETHTOOL_RX_FLOW_SPEC = MemoryLayout.structLayout(
        JAVA_INT.withName("flow_type"), ETHTOOL_FLOW_UNION.withName("h_u"), MemoryLayout.sequenceLayout(20, JAVA_BYTE).withName("h_ext"),
        ETHTOOL_FLOW_UNION.withName("m_u"), MemoryLayout.sequenceLayout(20, JAVA_BYTE).withName("m_ext"), MemoryLayout.paddingLayout(4),
        JAVA_LONG.withName("ring_cookie"), JAVA_INT.withName("location"), MemoryLayout.paddingLayout(4))
        .withName("ethtool_rx_flow_spec");

    /**
     * struct ethtool_rxnfc { __u32 cmd; __u32 flow_type; __u64 data; struct ethtool_rx_flow_spec fs;
     * union { __u32 rule_cnt; __u32 rss_context; }; __u32 rule_locs[]; } — the flexible rule_locs starts in what is
     * tail padding of the fixed part (offset {@link #RULE_LOCS}, sizeof 192 on x86_64).
     */
    static final StructLayout ETHTOOL_RXNFC = MemoryLayout.structLayout(
        JAVA_INT.withName("cmd"), JAVA_INT.withName("flow_type"), JAVA_LONG.withName("data"), ETHTOOL_RX_FLOW_SPEC.withName("fs"),
        MemoryLayout.unionLayout(JAVA_INT.withName("rule_cnt"), JAVA_INT.withName("rss_context")).withName("rule_cnt_or_rss_context"),
        MemoryLayout.paddingLayout(4)).withName("ethtool_rxnfc");

    /** Offsets in struct ethtool_rxnfc (checked against gcc's offsetof by EthtoolRxRuleTest). */
    static final long CMD = offset(PathElement.groupElement("cmd"));
    static final long DATA = offset(PathElement.groupElement("data"));
    static final long FS = offset(PathElement.groupElement("fs"));
    static final long FS_FLOW_TYPE = offset(PathElement.groupElement("fs"), PathElement.groupElement("flow_type"));
    static final long FS_H_U = offset(PathElement.groupElement("fs"), PathElement.groupElement("h_u"));
    static final long FS_M_U = offset(PathElement.groupElement("fs"), PathElement.groupElement("m_u"));
    static final long FS_RING_COOKIE = offset(PathElement.groupElement("fs"), PathElement.groupElement("ring_cookie"));
    static final long FS_LOCATION = offset(PathElement.groupElement("fs"), PathElement.groupElement("location"));
    static final long RULE_CNT = offset(PathElement.groupElement("rule_cnt_or_rss_context"));
    static final long RULE_LOCS = RULE_CNT + 4;
    /** Offsets in ethtool_tcpip4_spec / ethtool_tcpip6_spec (relative to h_u or m_u). */
    static final long IP4DST = ETHTOOL_TCPIP4_SPEC.byteOffset(PathElement.groupElement("ip4dst"));
    static final long IP4_PDST = ETHTOOL_TCPIP4_SPEC.byteOffset(PathElement.groupElement("pdst"));
    static final long IP6DST = ETHTOOL_TCPIP6_SPEC.byteOffset(PathElement.groupElement("ip6dst"));
    static final long IP6_PDST = ETHTOOL_TCPIP6_SPEC.byteOffset(PathElement.groupElement("pdst"));

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

    /**
     * The name of {@code ifname}'s driver (ETHTOOL_GDRVINFO), as {@code ethtool -i} shows it: "veth", "mlx5_core", "ixgbe";
     * "" for a device whose driver gives none (the loopback).
     */
    public static String driver(final String ifname)
    {
        return onSocket((fd, arena) ->
        {
            final MemorySegment drvinfo = arena.allocate(DRVINFO_SIZE, 8);
            drvinfo.set(JAVA_INT, 0, ETHTOOL_GDRVINFO);
            ethtool(fd, arena, ifname, drvinfo, "ETHTOOL_GDRVINFO", "needs an existing interface");
            // the kernel NUL-terminates the field (strscpy)
            return drvinfo.asSlice(DRVINFO_DRIVER, DRVINFO_DRIVER_LENGTH).getString(0, StandardCharsets.US_ASCII);
        });
    }

    /**
     * Install n-tuple rule {@code rule} on {@code ifname} (ETHTOOL_SRXCLSRLINS) and return the location (rule index)
     * it got. If the driver picks locations itself (RX_CLS_LOC_SPECIAL in ETHTOOL_GRXCLSRLCNT's data) it is asked for
     * RX_CLS_LOC_ANY and the location it wrote back is returned; otherwise the highest location below the table size
     * that ETHTOOL_GRXCLSRLALL does not list as used is taken (the lowest-priority slot, as the ethtool CLI does).
     *
     * @throws NativeException naming the failed ioctl and {@code ifname}, errno kept: EOPNOTSUPP when the driver
     *                         has no n-tuple filters (veth) or ntuple is off, ENOSPC when the table is full, EPERM
     *                         without CAP_NET_ADMIN, EINVAL when the driver refuses the rule.
     */
    public static int insertRxRule(final String ifname, final RxSteeringRule rule)
    {
        Objects.requireNonNull(rule, "rule");
        final String hint = ntupleHint(ifname);
        return onSocket((fd, arena) ->
        {
            final MemorySegment rxnfc = arena.allocate(ETHTOOL_RXNFC);
            rxnfc.set(JAVA_INT, CMD, ETHTOOL_GRXCLSRLCNT);
            ethtool(fd, arena, ifname, rxnfc, "ETHTOOL_GRXCLSRLCNT", hint);
            final long data = rxnfc.get(JAVA_LONG, DATA);
            final int location;
            if ((data & RX_CLS_LOC_SPECIAL) != 0)
            {
                location = RX_CLS_LOC_ANY;
            }
            else
            {
                location = freeLocation(fd, arena, ifname, data, rxnfc.get(JAVA_INT, RULE_CNT), hint);
            }
            encodeInsert(rxnfc, rule, location);
            ethtool(fd, arena, ifname, rxnfc, "ETHTOOL_SRXCLSRLINS", hint);
            return rxnfc.get(JAVA_INT, FS_LOCATION);
        });
    }

    /**
     * Delete the n-tuple rule at {@code location} on {@code ifname} (ETHTOOL_SRXCLSRLDEL).
     *
     * @throws NativeException naming the ioctl and {@code ifname}, errno kept (EOPNOTSUPP without n-tuple filters;
     *                         the driver's ENOENT or EINVAL when no rule is there).
     */
    public static void deleteRxRule(final String ifname, final int location)
    {
        if (location < 0)
        {
            throw new IllegalArgumentException("location: " + location + " is negative");
        }
        onSocket((fd, arena) ->
        {
            final MemorySegment rxnfc = arena.allocate(ETHTOOL_RXNFC);
            rxnfc.set(JAVA_INT, CMD, ETHTOOL_SRXCLSRLDEL);
            rxnfc.set(JAVA_INT, FS_LOCATION, location);
            ethtool(fd, arena, ifname, rxnfc, "ETHTOOL_SRXCLSRLDEL", ntupleHint(ifname));
            return null;
        });
    }

    /**
     * Write the ETHTOOL_SRXCLSRLINS request for {@code rule} at {@code location} into {@code rxnfc} (at least
     * sizeof(struct ethtool_rxnfc)), zeroing everything else. Masks: a 1 bit is compared (the kernel's sense; the
     * ethtool CLI's {@code m} option is the inverse), so the destination address mask is all ones, the destination
     * port mask is {@code dstPortMask} and all other fields are zero (ignored).
     */
    static void encodeInsert(final MemorySegment rxnfc, final RxSteeringRule rule, final int location)
    {
        rxnfc.asSlice(0, ETHTOOL_RXNFC.byteSize()).fill((byte)0);
        rxnfc.set(JAVA_INT, CMD, ETHTOOL_SRXCLSRLINS);
        final boolean tcp = rule.protocol() == RxSteeringRule.TCP;
        final byte[] address = rule.dstAddress();
        final long addressOffset;
        final long portOffset;
        if (rule.ipv6())
        {
            rxnfc.set(JAVA_INT, FS_FLOW_TYPE, tcp ? TCP_V6_FLOW : UDP_V6_FLOW);
            addressOffset = IP6DST;
            portOffset = IP6_PDST;
        }
        else
        {
            rxnfc.set(JAVA_INT, FS_FLOW_TYPE, tcp ? TCP_V4_FLOW : UDP_V4_FLOW);
            addressOffset = IP4DST;
            portOffset = IP4_PDST;
        }
        MemorySegment.copy(address, 0, rxnfc, JAVA_BYTE, FS_H_U + addressOffset, address.length);
        rxnfc.set(BE16, FS_H_U + portOffset, (short)rule.dstPort());
        rxnfc.asSlice(FS_M_U + addressOffset, address.length).fill((byte)0xff);
        rxnfc.set(BE16, FS_M_U + portOffset, (short)rule.dstPortMask());
        rxnfc.set(JAVA_LONG, FS_RING_COOKIE, rule.queue());
        rxnfc.set(JAVA_INT, FS_LOCATION, location);
    }

    /** The highest location below the table size that ETHTOOL_GRXCLSRLALL does not list as used. */
    private static int freeLocation(final int fd, final Arena arena, final String ifname, final long tableSize, final int ruleCount,
        final String hint)
    {
        final Set<Integer> used = new HashSet<>();
        if (ruleCount > 0)
        {
            final MemorySegment all = arena.allocate(Math.max(ETHTOOL_RXNFC.byteSize(), RULE_LOCS + 4L * ruleCount), 8);
            all.set(JAVA_INT, CMD, ETHTOOL_GRXCLSRLALL);
            all.set(JAVA_INT, RULE_CNT, ruleCount);
            ethtool(fd, arena, ifname, all, "ETHTOOL_GRXCLSRLALL", hint);
            final int listed = Math.min(ruleCount, all.get(JAVA_INT, RULE_CNT));
            for (int i = 0; i < listed; i++)
            {
                used.add(all.get(JAVA_INT, RULE_LOCS + 4L * i));
            }
        }
        final int location = highestFreeLocation(tableSize, used);
        if (location < 0)
        {
            throw new NativeException("insertRxRule(" + ifname + ")", Errno.ENOSPC,
                "no free location in the n-tuple rule table (size " + tableSize + ", " + ruleCount + " rules)");
        }
        return location;
    }

    /** @return the highest location below {@code tableSize} not in {@code used}, or -1 when there is none. */
    static int highestFreeLocation(final long tableSize, final Set<Integer> used)
    {
        for (long location = Math.min(tableSize, Integer.MAX_VALUE) - 1; location >= 0; location--)
        {
            if (!used.contains((int)location))
            {
                return (int)location;
            }
        }
        return -1;
    }

    private static String ntupleHint(final String ifname)
    {
        return "EOPNOTSUPP: the driver has no n-tuple filters (veth has none) or they are off (ethtool -K " + ifname
            + " ntuple on); EPERM: needs CAP_NET_ADMIN; EINVAL: the driver refused the rule or location";
    }

    /** SIOCETHTOOL with {@code command} (a struct starting with the ethtool cmd) on {@code ifname}; throws on failure. */
    private static void ethtool(final int fd, final Arena arena, final String ifname, final MemorySegment command,
        final String what, final String hint)
    {
        NativeException.check(Libc.ioctl(fd, SIOCETHTOOL, ifreq(arena, ifname, command)),
            "ioctl(SIOCETHTOOL, " + what + ", " + ifname + ")", hint);
    }

    private static MemorySegment ifreq(final Arena arena, final String ifname, final MemorySegment data)
    {
        final byte[] name = ifname.getBytes(StandardCharsets.US_ASCII);
        if (name.length > 15)
        {
            throw new IllegalArgumentException("ifname: '" + ifname + "' is longer than 15 characters");
        }
        final MemorySegment ifreq = arena.allocate(IFREQ_SIZE, 8);
        MemorySegment.copy(name, 0, ifreq, JAVA_BYTE, 0, name.length);
        ifreq.set(ADDRESS, IFREQ_DATA, data);
        return ifreq;
    }

    private static long offset(final PathElement... path)
    {
        return ETHTOOL_RXNFC.byteOffset(path);
    }

    private static int value(final String ifname, final int command, final int data, final String what)
    {
        return onSocket((fd, arena) ->
        {
            final MemorySegment ethtoolValue = arena.allocate(8, 8);
            ethtoolValue.set(JAVA_INT, 0, command);
            ethtoolValue.set(JAVA_INT, 4, data);
            ethtool(fd, arena, ifname, ethtoolValue, what, "needs CAP_NET_ADMIN and an existing interface");
            return ethtoolValue.get(JAVA_INT, 4);
        });
    }

    /** One SIOCETHTOOL exchange: the request and the memory it needs. */
    private interface Request<T>
    {
        T run(int fd, Arena arena);
    }

    /** Runs {@code request} with an AF_INET datagram socket (SIOCETHTOOL's handle) and a confined arena, both closed after. */
    private static <T> T onSocket(final Request<T> request)
    {
        final int fd = NativeException.check(Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0),
            "socket(AF_INET)", null);
        try (Arena arena = Arena.ofConfined())
        {
            return request.run(fd, arena);
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
