package io.sluice.nativeio.netlink;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.NativeException;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.TestNetwork;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class EthtoolRxRuleTest
{
    /**
     * struct ethtool_rxnfc (192 bytes) for ETHTOOL_SRXCLSRLINS, TCP_V4_FLOW to 198.18.0.10 port 8080 (mask 0xffff),
     * ring_cookie 3, location 1023. Dumped by a C program that filled the struct from linux/ethtool.h (gcc, x86_64,
     * Linux 6.18 uapi headers; offsets checked with offsetof): h_u.tcp_ip4_spec.ip4dst at 24, pdst at 30,
     * m_u.tcp_ip4_spec.ip4dst at 96, pdst at 102, fs.ring_cookie at 168, fs.location at 176.
     */
    private static final String GOLDEN_TCP4 = """
        32 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        01 00 00 00 00 00 00 00 c6 12 00 0a 00 00 1f 90
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        ff ff ff ff 00 00 ff ff 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00
        ff 03 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        """;

    /**
     * The same for UDP_V6_FLOW to 2001:2::53, port 0x1000 under mask 0xf000 (ports 4096..8191), ring_cookie 7,
     * location RX_CLS_LOC_ANY; same C program: h_u.udp_ip6_spec.ip6dst at 36, pdst at 54, m_u ip6dst at 108,
     * pdst at 126.
     */
    private static final String GOLDEN_UDP6 = """
        32 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 20 01 00 02 00 00 00 00 00 00 00 00
        00 00 00 53 00 00 10 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 ff ff ff ff
        ff ff ff ff ff ff ff ff ff ff ff ff 00 00 f0 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00
        ff ff ff ff 00 00 00 00 00 00 00 00 00 00 00 00
        """;

    private static final byte[] V4 = {(byte)198, 18, 0, 10};

    @Test
    void shouldEncodeIpv4TcpRuleAsTheKernelStruct()
    {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "golden bytes are for a little-endian host");
        assertThat(encode(new RxSteeringRule(6, V4, 8080, 0xffff, 3), 1023)).isEqualTo(golden(GOLDEN_TCP4));
    }

    @Test
    void shouldEncodeIpv6UdpRuleAsTheKernelStruct() throws Exception
    {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "golden bytes are for a little-endian host");
        final byte[] v6 = InetAddress.getByName("2001:2::53").getAddress();
        assertThat(encode(new RxSteeringRule(17, v6, 0x1000, 0xf000, 7), Ethtool.RX_CLS_LOC_ANY))
            .isEqualTo(golden(GOLDEN_UDP6));
    }

    @Test
    void shouldMatchStructLayoutOfTheCHeaders() throws Exception
    {
        assumeTrue(onPath("gcc") && Files.exists(Path.of("/usr/include/linux/ethtool.h")),
            "needs gcc and /usr/include/linux/ethtool.h");
        final Map<String, Long> c = cValues();
        final Map<String, Long> java = new HashMap<>();
        java.put("sizeof_ethtool_rxnfc", Ethtool.ETHTOOL_RXNFC.byteSize());
        java.put("sizeof_ethtool_rx_flow_spec", Ethtool.ETHTOOL_RX_FLOW_SPEC.byteSize());
        java.put("sizeof_ethtool_flow_union", Ethtool.ETHTOOL_FLOW_UNION.byteSize());
        java.put("rxnfc_cmd", Ethtool.CMD);
        java.put("rxnfc_data", Ethtool.DATA);
        java.put("rxnfc_fs", Ethtool.FS);
        java.put("rxnfc_fs_flow_type", Ethtool.FS_FLOW_TYPE);
        java.put("rxnfc_fs_h_u", Ethtool.FS_H_U);
        java.put("rxnfc_fs_m_u", Ethtool.FS_M_U);
        java.put("rxnfc_fs_ring_cookie", Ethtool.FS_RING_COOKIE);
        java.put("rxnfc_fs_location", Ethtool.FS_LOCATION);
        java.put("rxnfc_rule_cnt", Ethtool.RULE_CNT);
        java.put("rxnfc_rss_context", Ethtool.RULE_CNT);
        java.put("rxnfc_rule_locs", Ethtool.RULE_LOCS);
        java.put("tcpip4_ip4dst", Ethtool.IP4DST);
        java.put("tcpip4_pdst", Ethtool.IP4_PDST);
        java.put("tcpip6_ip6dst", Ethtool.IP6DST);
        java.put("tcpip6_pdst", Ethtool.IP6_PDST);
        java.put("sizeof_ethtool_drvinfo", (long)Ethtool.DRVINFO_SIZE);
        java.put("drvinfo_driver", (long)Ethtool.DRVINFO_DRIVER);
        java.put("sizeof_drvinfo_driver", (long)Ethtool.DRVINFO_DRIVER_LENGTH);
        java.put("ETHTOOL_GDRVINFO", (long)Ethtool.ETHTOOL_GDRVINFO);
        java.put("ETHTOOL_GRXCLSRLCNT", (long)Ethtool.ETHTOOL_GRXCLSRLCNT);
        java.put("ETHTOOL_GRXCLSRULE", (long)Ethtool.ETHTOOL_GRXCLSRULE);
        java.put("ETHTOOL_GRXCLSRLALL", (long)Ethtool.ETHTOOL_GRXCLSRLALL);
        java.put("ETHTOOL_SRXCLSRLDEL", (long)Ethtool.ETHTOOL_SRXCLSRLDEL);
        java.put("ETHTOOL_SRXCLSRLINS", (long)Ethtool.ETHTOOL_SRXCLSRLINS);
        java.put("TCP_V4_FLOW", (long)Ethtool.TCP_V4_FLOW);
        java.put("UDP_V4_FLOW", (long)Ethtool.UDP_V4_FLOW);
        java.put("TCP_V6_FLOW", (long)Ethtool.TCP_V6_FLOW);
        java.put("UDP_V6_FLOW", (long)Ethtool.UDP_V6_FLOW);
        java.put("RX_CLS_LOC_SPECIAL", Ethtool.RX_CLS_LOC_SPECIAL);
        java.put("RX_CLS_LOC_ANY", Integer.toUnsignedLong(Ethtool.RX_CLS_LOC_ANY));
        assertThat(java).isEqualTo(c);
    }

    @Test
    void shouldRefuseOnVethWithTheKernelsErrnoNamingTheInterface()
    {
        try (TestNetwork network = new TestNetwork("ntt"))
        {
            final String ns = network.namespace("x");
            final String ifA = network.name("a");
            final String ifB = network.name("b");
            network.veth(ns, ifA, ns, ifB);
            final RxSteeringRule rule = new RxSteeringRule(6, V4, 443, 0xffff, 0);
            NetNs.run(ns, () ->
            {
                // veth has no get_rxnfc: the first call (the rule count) already fails with EOPNOTSUPP.
                final NativeException insert = catchThrowableOfType(NativeException.class, () -> Ethtool.insertRxRule(ifA, rule));
                assertThat(insert.errno()).isEqualTo(Errno.EOPNOTSUPP);
                assertThat(insert.call()).isEqualTo("ioctl(SIOCETHTOOL, ETHTOOL_GRXCLSRLCNT, " + ifA + ")");
                assertThat(insert.getMessage()).contains(ifA).contains("EOPNOTSUPP (95)").contains("ntuple");

                final NativeException delete = catchThrowableOfType(NativeException.class, () -> Ethtool.deleteRxRule(ifA, 0));
                assertThat(delete.errno()).isEqualTo(Errno.EOPNOTSUPP);
                assertThat(delete.call()).isEqualTo("ioctl(SIOCETHTOOL, ETHTOOL_SRXCLSRLDEL, " + ifA + ")");
                assertThat(delete.getMessage()).contains(ifA);

                final NativeException missing = catchThrowableOfType(NativeException.class,
                    () -> Ethtool.insertRxRule("nttmissing0", rule));
                assertThat(missing.errno()).isEqualTo(Errno.ENODEV);
                assertThat(missing.getMessage()).contains("nttmissing0");

                // The failed calls changed nothing: the ordinary ethtool calls still work on the same veth.
                Ethtool.txChecksumOffload(ifA, false);
                assertThat(Ethtool.txChecksumOffload(ifA)).isFalse();
                assertThat(Ethtool.driver(ifA)).isEqualTo("veth");
                assertThat(catchThrowableOfType(NativeException.class, () -> Ethtool.driver("nttmissing0")).errno())
                    .isEqualTo(Errno.ENODEV);
            });
        }
    }

    @Test
    void shouldRejectEachBadFieldByName()
    {
        assertThatThrownBy(() -> new RxSteeringRule(1, V4, 80, 0xffff, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("protocol:");
        assertThatThrownBy(() -> new RxSteeringRule(6, new byte[5], 80, 0xffff, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("dstAddress:");
        assertThatThrownBy(() -> new RxSteeringRule(6, null, 80, 0xffff, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("dstAddress:");
        assertThatThrownBy(() -> new RxSteeringRule(6, V4, -1, 0xffff, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("dstPort:");
        assertThatThrownBy(() -> new RxSteeringRule(6, V4, 65536, 0xffff, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("dstPort:");
        assertThatThrownBy(() -> new RxSteeringRule(6, V4, 80, 0x10000, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("dstPortMask:");
        assertThatThrownBy(() -> new RxSteeringRule(6, V4, 80, -1, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("dstPortMask:");
        assertThatThrownBy(() -> new RxSteeringRule(6, V4, 0x1001, 0xf000, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("dstPort:").hasMessageContaining("dstPortMask");
        assertThatThrownBy(() -> new RxSteeringRule(17, V4, 80, 0xffff, -1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("queue:");
        assertThatThrownBy(() -> Ethtool.deleteRxRule("lo", -1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("location:");
    }

    @Test
    void shouldAcceptEdgeValuesAndKeepItsOwnAddressCopy()
    {
        final byte[] address = V4.clone();
        final RxSteeringRule anyPort = new RxSteeringRule(17, address, 0, 0, 0);
        address[0] = 1;
        assertThat(anyPort.dstAddress()).containsExactly(V4);
        anyPort.dstAddress()[0] = 2;
        assertThat(anyPort.dstAddress()).containsExactly(V4);
        assertThat(anyPort).isEqualTo(new RxSteeringRule(17, V4.clone(), 0, 0, 0)).hasSameHashCodeAs(new RxSteeringRule(17, V4, 0, 0, 0));
        assertThat(new RxSteeringRule(6, new byte[16], 65535, 0xffff, Integer.MAX_VALUE).ipv6()).isTrue();
    }

    @Test
    void shouldPickTheHighestFreeLocationBelowTheTableSize()
    {
        assertThat(Ethtool.highestFreeLocation(8, Set.of())).isEqualTo(7);
        assertThat(Ethtool.highestFreeLocation(8, Set.of(7, 5))).isEqualTo(6);
        assertThat(Ethtool.highestFreeLocation(8, Set.of(7, 6, 5, 4, 3, 2, 1))).isEqualTo(0);
        assertThat(Ethtool.highestFreeLocation(3, Set.of(2, 1, 0))).isEqualTo(-1);
        assertThat(Ethtool.highestFreeLocation(0, Set.of())).isEqualTo(-1);
    }

    private static byte[] encode(final RxSteeringRule rule, final int location)
    {
        try (Arena arena = Arena.ofConfined())
        {
            // One byte beyond the struct, and garbage everywhere: the encoder must zero all 192 bytes and stop there.
            final MemorySegment segment = arena.allocate(Ethtool.ETHTOOL_RXNFC.byteSize() + 1, 8);
            segment.fill((byte)0x5a);
            Ethtool.encodeInsert(segment, rule, location);
            assertThat(segment.get(JAVA_BYTE, Ethtool.ETHTOOL_RXNFC.byteSize())).isEqualTo((byte)0x5a);
            return segment.asSlice(0, Ethtool.ETHTOOL_RXNFC.byteSize()).toArray(JAVA_BYTE);
        }
    }

    private static byte[] golden(final String hex)
    {
        final byte[] bytes = HexFormat.of().parseHex(hex.replaceAll("\\s", ""));
        assertThat(bytes).hasSize(192);
        return bytes;
    }

    private static boolean onPath(final String program)
    {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
            .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, program)));
    }

    /** Compile and run a C program printing "name value" for every size, offset and constant the Java side uses. */
    private static Map<String, Long> cValues() throws IOException, InterruptedException
    {
        final Path dir = Files.createTempDirectory("ntt-ethtool");
        try
        {
            Files.writeString(dir.resolve("layout.c"), """
                #include <stdio.h>
                #include <stddef.h>
                #include <linux/ethtool.h>
                #define P(name, value) printf("%s %llu\\n", name, (unsigned long long)(value))
                #define OFF(type, field) offsetof(struct type, field)
                int main(void)
                {
                    P("sizeof_ethtool_rxnfc", sizeof(struct ethtool_rxnfc));
                    P("sizeof_ethtool_rx_flow_spec", sizeof(struct ethtool_rx_flow_spec));
                    P("sizeof_ethtool_flow_union", sizeof(union ethtool_flow_union));
                    P("rxnfc_cmd", OFF(ethtool_rxnfc, cmd));
                    P("rxnfc_data", OFF(ethtool_rxnfc, data));
                    P("rxnfc_fs", OFF(ethtool_rxnfc, fs));
                    P("rxnfc_fs_flow_type", OFF(ethtool_rxnfc, fs.flow_type));
                    P("rxnfc_fs_h_u", OFF(ethtool_rxnfc, fs.h_u));
                    P("rxnfc_fs_m_u", OFF(ethtool_rxnfc, fs.m_u));
                    P("rxnfc_fs_ring_cookie", OFF(ethtool_rxnfc, fs.ring_cookie));
                    P("rxnfc_fs_location", OFF(ethtool_rxnfc, fs.location));
                    P("rxnfc_rule_cnt", OFF(ethtool_rxnfc, rule_cnt));
                    P("rxnfc_rss_context", OFF(ethtool_rxnfc, rss_context));
                    P("rxnfc_rule_locs", OFF(ethtool_rxnfc, rule_locs));
                    P("tcpip4_ip4dst", OFF(ethtool_tcpip4_spec, ip4dst));
                    P("tcpip4_pdst", OFF(ethtool_tcpip4_spec, pdst));
                    P("tcpip6_ip6dst", OFF(ethtool_tcpip6_spec, ip6dst));
                    P("tcpip6_pdst", OFF(ethtool_tcpip6_spec, pdst));
                    P("sizeof_ethtool_drvinfo", sizeof(struct ethtool_drvinfo));
                    P("drvinfo_driver", OFF(ethtool_drvinfo, driver));
                    P("sizeof_drvinfo_driver", sizeof(((struct ethtool_drvinfo *)0)->driver));
                    P("ETHTOOL_GDRVINFO", ETHTOOL_GDRVINFO);
                    P("ETHTOOL_GRXCLSRLCNT", ETHTOOL_GRXCLSRLCNT);
                    P("ETHTOOL_GRXCLSRULE", ETHTOOL_GRXCLSRULE);
                    P("ETHTOOL_GRXCLSRLALL", ETHTOOL_GRXCLSRLALL);
                    P("ETHTOOL_SRXCLSRLDEL", ETHTOOL_SRXCLSRLDEL);
                    P("ETHTOOL_SRXCLSRLINS", ETHTOOL_SRXCLSRLINS);
                    P("TCP_V4_FLOW", TCP_V4_FLOW);
                    P("UDP_V4_FLOW", UDP_V4_FLOW);
                    P("TCP_V6_FLOW", TCP_V6_FLOW);
                    P("UDP_V6_FLOW", UDP_V6_FLOW);
                    P("RX_CLS_LOC_SPECIAL", RX_CLS_LOC_SPECIAL);
                    P("RX_CLS_LOC_ANY", RX_CLS_LOC_ANY);
                    return 0;
                }
                """);
            final String binary = dir.resolve("layout").toString();
            run(dir, "gcc", "-o", binary, dir.resolve("layout.c").toString());
            final Map<String, Long> values = new HashMap<>();
            for (final String line : run(dir, binary).strip().split("\n"))
            {
                final String[] parts = line.split(" ");
                values.put(parts[0], Long.parseLong(parts[1]));
            }
            return values;
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    private static String run(final Path dir, final String... command) throws IOException, InterruptedException
    {
        final Path output = dir.resolve("output");
        final Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(output.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IllegalStateException("timed out: " + String.join(" ", command));
        }
        final String text = Files.readString(output);
        assertThat(process.exitValue()).as(String.join(" ", command) + ": " + text).isZero();
        return text;
    }
}
