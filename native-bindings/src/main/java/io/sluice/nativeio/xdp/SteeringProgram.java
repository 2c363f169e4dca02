package io.sluice.nativeio.xdp;

import io.sluice.nativeio.bpf.BpfAssembler;

import static io.sluice.nativeio.bpf.BpfAssembler.AND;
import static io.sluice.nativeio.bpf.BpfAssembler.B;
import static io.sluice.nativeio.bpf.BpfAssembler.DW;
import static io.sluice.nativeio.bpf.BpfAssembler.FN_KTIME_GET_NS;
import static io.sluice.nativeio.bpf.BpfAssembler.FN_MAP_LOOKUP_ELEM;
import static io.sluice.nativeio.bpf.BpfAssembler.FN_REDIRECT;
import static io.sluice.nativeio.bpf.BpfAssembler.FN_REDIRECT_MAP;
import static io.sluice.nativeio.bpf.BpfAssembler.H;
import static io.sluice.nativeio.bpf.BpfAssembler.JEQ;
import static io.sluice.nativeio.bpf.BpfAssembler.JSET;
import static io.sluice.nativeio.bpf.BpfAssembler.JGT;
import static io.sluice.nativeio.bpf.BpfAssembler.JLT;
import static io.sluice.nativeio.bpf.BpfAssembler.JNE;
import static io.sluice.nativeio.bpf.BpfAssembler.LSH;
import static io.sluice.nativeio.bpf.BpfAssembler.R0;
import static io.sluice.nativeio.bpf.BpfAssembler.R1;
import static io.sluice.nativeio.bpf.BpfAssembler.R10;
import static io.sluice.nativeio.bpf.BpfAssembler.R2;
import static io.sluice.nativeio.bpf.BpfAssembler.R3;
import static io.sluice.nativeio.bpf.BpfAssembler.R4;
import static io.sluice.nativeio.bpf.BpfAssembler.R5;
import static io.sluice.nativeio.bpf.BpfAssembler.R6;
import static io.sluice.nativeio.bpf.BpfAssembler.R7;
import static io.sluice.nativeio.bpf.BpfAssembler.R8;
import static io.sluice.nativeio.bpf.BpfAssembler.R9;
import static io.sluice.nativeio.bpf.BpfAssembler.RSH;
import static io.sluice.nativeio.bpf.BpfAssembler.SUB;
import static io.sluice.nativeio.bpf.BpfAssembler.W;
import static io.sluice.nativeio.bpf.BpfAssembler.XOR;

/**
 * The XDP steering program, assembled in Java.
 * <p>
 * Parses Ethernet (+ one 802.1Q tag), IPv4 (first fragments only) or IPv6 (no extension headers), then TCP/UDP
 * destination port, ICMP/ICMPv6 echo (port 0), or ICMP errors by the flow they quote (inner source address and
 * port: the packet we sent). It looks the {@link VipKey} up in {@code vip_map}:
 * <pre>
 *   exact (addr, port, proto) entry:  REDIRECT → xsks_map[rx_queue_index] | PASS | DROP
 *   else (addr, 0, 0) LOCAL entry:    port in [portLo, portHi] → REDIRECT, else PASS (kernel's own connections)
 *   else                              PASS (ARP, ND, SSH, health checks ...)
 * </pre>
 * Registers: r6 = ctx, r7 = cursor into the packet, r8 = data_end, r9 = IP version then the saved port; r1–r5 are
 * clobbered by helper calls. Stack: the 20-byte key at fp-24, the counter index at fp-32. Every packet read is
 * preceded by a {@code cursor + n > data_end} check, again after a variable (IHL) advance, as the verifier demands.
 */
public final class SteeringProgram
{
    static final int XDP_DROP = 1;
    static final int XDP_PASS = 2;
    static final int XDP_TX = 3;
    static final int XDP_REDIRECT = 4;
    static final int TC_ACT_OK = 0;
    static final int TC_ACT_SHOT = 2;
    /** Offsets of data/data_end in struct xdp_md and struct __sk_buff. */
    static final int XDP_MD_DATA = 0;
    static final int XDP_MD_DATA_END = 4;
    static final int SK_BUFF_DATA = 76;
    static final int SK_BUFF_DATA_END = 80;
    /** Ethertypes as a 16-bit load sees them on a little-endian machine. */
    static final int ETH_P_IP_LE = 0x0008;
    static final int ETH_P_IPV6_LE = 0xdd86;
    static final int ETH_P_8021Q_LE = 0x0081;
    /** Fragment offset bits of IPv4 flags/frag_off, as loaded little-endian. */
    static final int IPV4_FRAG_OFFSET_LE = 0xff1f;

    static final int KEY = -24;
    static final int KEY_ADDR_V4 = KEY + 12;
    static final int KEY_V4_MAPPED = KEY + 10;
    static final int KEY_PORT = KEY + VipKey.PORT_OFFSET;
    static final int KEY_PROTO = KEY + VipKey.PROTO_OFFSET;
    static final int COUNTER_INDEX = -32;
    /** Offload stack: the 40-byte {@link FlowKey} at fp-80, a u32 array key at fp-88, the IP length at fp-96. */
    static final int FLOW_KEY = -80;
    static final int ARRAY_KEY = -88;
    static final int IP_LENGTH = -96;
    /**
     * The IP version and L4 protocol as 8-byte register spills: the verifier restores a spilled constant exactly, so
     * it knows which headers were bounds-checked when the rewrite branches on them again after the helper calls.
     */
    static final int FAMILY = -104;
    static final int L4_PROTO = -112;
    /** Offsets in the frame (no VLAN tag: tagged frames are never offloaded). */
    static final int ETH_LEN = 14;
    static final int IPV4_TOT_LEN = ETH_LEN + 2;
    static final int IPV4_FRAG_OFF = ETH_LEN + 6;
    static final int IPV4_PROTOCOL = ETH_LEN + 9;
    static final int IPV4_CHECKSUM = ETH_LEN + 10;
    static final int IPV4_SADDR = ETH_LEN + 12;
    static final int IPV4_DADDR = ETH_LEN + 16;
    static final int IPV6_PAYLOAD_LEN = ETH_LEN + 4;
    static final int IPV6_NEXT_HEADER = ETH_LEN + 6;
    static final int IPV6_SADDR = ETH_LEN + 8;
    static final int IPV6_DADDR = ETH_LEN + 24;
    static final int IPV6_HEADER_END = ETH_LEN + 40;
    /** MF and fragment offset bits of IPv4 flags/frag_off, as loaded little-endian: any set means a fragment. */
    static final int IPV4_FRAGMENT_LE = 0xff3f;
    static final int TCP_FLAGS = 13;
    /** FIN | RST: the end of a session, which the forwarder must see. */
    static final int TCP_FIN_RST = 0x05;
    /** SYN | ACK, and SYN alone: a pure SYN (a new flow, or a closing session's port reused) is the forwarder's. */
    static final int TCP_SYN_ACK = 0x12;
    static final int TCP_SYN = 0x02;
    static final int TCP_CHECKSUM = 16;
    static final int UDP_CHECKSUM = 6;
    static final int XDP_MD_INGRESS_IFINDEX = 12;

    private final boolean tc;
    private final XdpFlowTable flows;
    private int countLabels;

    private SteeringProgram(final boolean tc, final XdpFlowTable flows)
    {
        this.tc = tc;
        this.flows = flows;
    }

    /** @return the XDP program's instructions for the given map fds. */
    public static long[] build(final int vipMapFd, final int xsksMapFd, final int countersMapFd)
    {
        return build(vipMapFd, xsksMapFd, countersMapFd, null);
    }

    /**
     * @return the XDP program that first tries the established-flow offload of {@code flows} (see
     *     {@link #offload}); with null flows, exactly {@link #build(int, int, int)}.
     */
    public static long[] build(final int vipMapFd, final int xsksMapFd, final int countersMapFd, final XdpFlowTable flows)
    {
        return new SteeringProgram(false, flows).assemble(vipMapFd, xsksMapFd, countersMapFd);
    }

    /**
     * @return the same lookup as a tc classifier (BPF_PROG_TYPE_SCHED_CLS, attached at TCX ingress) for interfaces
     *     served by AF_PACKET: a packet socket only taps a copy, so what would be redirected is dropped here instead
     *     (TC_ACT_SHOT) and the kernel never answers it with a RST or port unreachable; the rest goes on (TC_ACT_OK).
     */
    public static long[] buildTc(final int vipMapFd, final int countersMapFd)
    {
        return new SteeringProgram(true, null).assemble(vipMapFd, -1, countersMapFd);
    }

    private long[] assemble(final int vipMap, final int xsksMap, final int counters)
    {
        final BpfAssembler a = new BpfAssembler();
        a.mov64(R6, R1);
        if (flows != null)
        {
            offload(a, counters);
        }
        a.label("steer");
        // Zero the whole key: privileged loads accept uninitialised stack, and a lookup would then silently miss.
        a.st(DW, R10, KEY, 0).st(DW, R10, KEY + 8, 0).st(DW, R10, KEY + 16, 0);
        a.ldx(W, R7, R6, tc ? SK_BUFF_DATA : XDP_MD_DATA).ldx(W, R8, R6, tc ? SK_BUFF_DATA_END : XDP_MD_DATA_END);

        // Ethernet, one optional 802.1Q tag.
        bounds(a, 14);
        a.ldx(H, R3, R7, 12).add64Imm(R7, 14);
        a.jmpImm(JNE, R3, ETH_P_8021Q_LE, "l3");
        bounds(a, 4);
        a.ldx(H, R3, R7, 2).add64Imm(R7, 4);
        a.label("l3");
        a.jmpImm(JEQ, R3, ETH_P_IP_LE, "ipv4");
        a.jmpImm(JEQ, R3, ETH_P_IPV6_LE, "ipv6");
        a.ja("unmatched");

        a.label("ipv4");
        bounds(a, 20);
        a.ldx(H, R5, R7, 6).alu64Imm(AND, R5, IPV4_FRAG_OFFSET_LE);
        a.jmpImm(JNE, R5, 0, "unmatched");
        a.ldx(W, R1, R7, 16).stx(W, R10, KEY_ADDR_V4, R1);
        a.st(H, R10, KEY_V4_MAPPED, 0xffff);
        a.ldx(B, R4, R7, 9);
        ihlAdvance(a);
        a.mov64Imm(R9, 4);
        a.ja("l4");

        a.label("ipv6");
        bounds(a, 40);
        a.ldx(B, R4, R7, 6);
        a.ldx(DW, R1, R7, 24).stx(DW, R10, KEY, R1);
        a.ldx(DW, R1, R7, 32).stx(DW, R10, KEY + 8, R1);
        a.add64Imm(R7, 40);
        a.mov64Imm(R9, 6);

        a.label("l4");
        a.stx(B, R10, KEY_PROTO, R4);
        a.jmpImm(JEQ, R4, VipKey.IPPROTO_TCP, "ports");
        a.jmpImm(JEQ, R4, VipKey.IPPROTO_UDP, "ports");
        a.jmpImm(JEQ, R4, VipKey.IPPROTO_ICMP, "icmp4");
        a.jmpImm(JEQ, R4, VipKey.IPPROTO_ICMPV6, "icmp6");
        a.ja("unmatched");

        a.label("ports");
        bounds(a, 4);
        a.ldx(H, R1, R7, 2).stx(H, R10, KEY_PORT, R1);
        a.ja("lookup");

        a.label("icmp4");
        a.jmpImm(JNE, R9, 4, "unmatched");
        bounds(a, 8);
        a.ldx(B, R1, R7, 0);
        a.jmpImm(JEQ, R1, 8, "lookup");
        a.jmpImm(JEQ, R1, 0, "lookup");
        a.jmpImm(JEQ, R1, 3, "icmp4err");
        a.jmpImm(JEQ, R1, 11, "icmp4err");
        a.jmpImm(JEQ, R1, 12, "icmp4err");
        a.ja("unmatched");
        a.label("icmp4err");
        a.add64Imm(R7, 8);
        bounds(a, 20);
        a.ldx(B, R4, R7, 9);
        a.ldx(W, R1, R7, 12).stx(W, R10, KEY_ADDR_V4, R1);
        ihlAdvance(a);
        a.ja("inner");

        a.label("icmp6");
        a.jmpImm(JNE, R9, 6, "unmatched");
        bounds(a, 8);
        a.ldx(B, R1, R7, 0);
        a.jmpImm(JEQ, R1, 128, "lookup");
        a.jmpImm(JEQ, R1, 129, "lookup");
        a.jmpImm(JEQ, R1, 0, "unmatched");
        a.jmpImm(JGT, R1, 4, "unmatched");
        a.add64Imm(R7, 8);
        bounds(a, 40);
        a.ldx(B, R4, R7, 6);
        a.ldx(DW, R1, R7, 8).stx(DW, R10, KEY, R1);
        a.ldx(DW, R1, R7, 16).stx(DW, R10, KEY + 8, R1);
        a.add64Imm(R7, 40);

        // The quoted packet is one we sent: its source (address, port) is our VIP or local address.
        a.label("inner");
        a.jmpImm(JEQ, R4, VipKey.IPPROTO_TCP, "innerPorts");
        a.jmpImm(JEQ, R4, VipKey.IPPROTO_UDP, "innerPorts");
        a.ja("unmatched");
        a.label("innerPorts");
        a.stx(B, R10, KEY_PROTO, R4);
        bounds(a, 4);
        a.ldx(H, R1, R7, 0).stx(H, R10, KEY_PORT, R1);

        a.label("lookup");
        a.ldMapFd(R1, vipMap).mov64(R2, R10).add64Imm(R2, KEY).call(FN_MAP_LOOKUP_ELEM);
        a.jmpImm(JEQ, R0, 0, "tryLocal");
        a.ldx(B, R1, R0, VipValue.ACTION_OFFSET);
        a.jmpImm(JEQ, R1, VipValue.ACTION_REDIRECT, "redirectVip");
        a.jmpImm(JEQ, R1, VipValue.ACTION_DROP, "drop");
        a.ja("passEntry");

        a.label("tryLocal");
        a.ldx(H, R9, R10, KEY_PORT);
        a.st(H, R10, KEY_PORT, 0).st(B, R10, KEY_PROTO, 0);
        a.ldMapFd(R1, vipMap).mov64(R2, R10).add64Imm(R2, KEY).call(FN_MAP_LOOKUP_ELEM);
        a.jmpImm(JEQ, R0, 0, "unmatched");
        a.ldx(B, R1, R0, VipValue.ACTION_OFFSET);
        a.jmpImm(JNE, R1, VipValue.ACTION_LOCAL, "unmatched");
        a.toBigEndian(R9, 16);
        a.ldx(H, R2, R0, VipValue.PORT_LO_OFFSET);
        a.jmpReg(JLT, R9, R2, "localPass");
        a.ldx(H, R2, R0, VipValue.PORT_HI_OFFSET);
        a.jmpReg(JGT, R9, R2, "localPass");
        count(a, counters, SteeringCounter.REDIRECT_LOCAL);
        a.ja("redirect");

        a.label("redirectVip");
        count(a, counters, SteeringCounter.REDIRECT_VIP);
        a.label("redirect");
        if (tc)
        {
            a.returnImm(TC_ACT_SHOT);
        }
        else
        {
            // Fall back to XDP_PASS when no XSK is registered for this queue (lower bits of flags).
            a.ldMapFd(R1, xsksMap).ldx(W, R2, R6, 16).mov64Imm(R3, XDP_PASS).call(FN_REDIRECT_MAP);
            a.exit();
        }

        final int pass = tc ? TC_ACT_OK : XDP_PASS;
        a.label("drop");
        count(a, counters, SteeringCounter.DROP_ENTRY);
        a.returnImm(tc ? TC_ACT_SHOT : XDP_DROP);
        a.label("passEntry");
        count(a, counters, SteeringCounter.PASS_ENTRY);
        a.returnImm(pass);
        a.label("localPass");
        count(a, counters, SteeringCounter.PASS_LOCAL);
        a.returnImm(pass);
        a.label("unmatched");
        count(a, counters, SteeringCounter.PASS_UNMATCHED);
        a.returnImm(pass);
        a.label("malformed");
        count(a, counters, SteeringCounter.PASS_MALFORMED);
        a.returnImm(pass);
        return a.assemble();
    }

    /** if (r7 + n > data_end) goto malformed. */
    private static void bounds(final BpfAssembler a, final int n)
    {
        bounds(a, R7, n, "malformed");
    }

    /** if (base + n > data_end) goto target. */
    private static void bounds(final BpfAssembler a, final int base, final int n, final String target)
    {
        a.mov64(R2, base).add64Imm(R2, n).jmpReg(JGT, R2, R8, target);
    }

    /** reg = its end-around (one's complement) 16-bit fold, {@code times} times; tmp is clobbered. */
    private static void fold(final BpfAssembler a, final int reg, final int tmp, final int times)
    {
        for (int i = 0; i < times; i++)
        {
            a.mov64(tmp, reg).alu64Imm(RSH, tmp, 16).alu64Imm(AND, reg, 0xffff).add64(reg, tmp);
        }
    }

    /**
     * The established-flow offload, tried before today's steering (which starts at label {@code steer}, with r6 =
     * ctx). Every "not for the offload" case jumps to {@code steer} with the frame untouched:
     * <ul>
     *   <li>not IPv4/IPv6 right after the Ethernet header (802.1Q tagged frames are left to the forwarder);</li>
     *   <li>IPv4 fragments (MF or an offset), IPv6 with an extension header; not TCP or UDP;</li>
     *   <li>TCP with FIN or RST, or a pure SYN (state changes the forwarder must see; a SYN-ACK is offloaded: the
     *       forwarder learns the handshake from the client entry's stamp); IPv6 UDP with checksum 0;</li>
     *   <li>an L4 checksum field equal to the folded pseudo-header sum (CHECKSUM_PARTIAL from a local veth sender,
     *       which the forwarder completes), as fastpath's FrameValidation.l4Checksum tells it: pseudo ≠ 0 and
     *       field = fold(pseudo);</li>
     *   <li>no entry in {@code flows}; an entry of another epoch (counted OFFLOAD_STALE).</li>
     * </ul>
     * The pseudo-header test is done on little-endian loads: one's complement sums do not depend on byte order
     * (RFC 1071), so summing the loaded words and the byte-swapped protocol and length compares exactly.
     * On a hit: addresses, ports, MACs rewritten, the checksums updated by the entry's RFC 1624 deltas, last-seen
     * stored, the entry's counter slots bumped, OFFLOAD_FORWARDED counted, then XDP_TX when the egress is the
     * ingress interface, else bpf_redirect(egress, 0). Registers: r6 ctx, r7 data, r8 data_end then the entry,
     * r9 the L4 header. Stack: see {@link #FLOW_KEY}.
     */
    private void offload(final BpfAssembler a, final int counters)
    {
        a.ldx(W, R7, R6, XDP_MD_DATA).ldx(W, R8, R6, XDP_MD_DATA_END);
        a.st(DW, R10, FLOW_KEY, 0).st(DW, R10, FLOW_KEY + 8, 0).st(DW, R10, FLOW_KEY + 16, 0)
            .st(DW, R10, FLOW_KEY + 24, 0).st(DW, R10, FLOW_KEY + 32, 0);
        bounds(a, R7, ETH_LEN, "steer");
        a.ldx(H, R3, R7, 12);
        a.jmpImm(JEQ, R3, ETH_P_IP_LE, "offV4");
        a.jmpImm(JEQ, R3, ETH_P_IPV6_LE, "offV6");
        a.ja("steer");

        // IPv4: r4 = protocol, r5 = pseudo sum (LE), IP_LENGTH = total length, r9 = L4 header.
        a.label("offV4");
        bounds(a, R7, ETH_LEN + 20, "steer");
        a.ldx(H, R1, R7, IPV4_FRAG_OFF).alu64Imm(AND, R1, IPV4_FRAGMENT_LE);
        a.jmpImm(JNE, R1, 0, "steer");
        a.ldx(B, R4, R7, IPV4_PROTOCOL);
        a.ldx(B, R3, R7, ETH_LEN).alu64Imm(AND, R3, 0x0f).alu64Imm(LSH, R3, 2);
        a.jmpImm(JLT, R3, 20, "steer");
        a.ldx(W, R1, R7, IPV4_SADDR).stx(W, R10, FLOW_KEY + 12, R1);
        a.mov64(R5, R1);
        a.ldx(W, R1, R7, IPV4_DADDR).stx(W, R10, FLOW_KEY + 28, R1);
        a.add64(R5, R1);
        a.st(H, R10, FLOW_KEY + 10, 0xffff).st(H, R10, FLOW_KEY + 26, 0xffff);
        a.ldx(H, R1, R7, IPV4_TOT_LEN).toBigEndian(R1, 16);
        a.stx(DW, R10, IP_LENGTH, R1);
        a.alu64Reg(SUB, R1, R3);
        a.mov64Imm(R2, 4).stx(DW, R10, FAMILY, R2);
        a.mov64(R9, R7).add64Imm(R9, ETH_LEN).add64(R9, R3);
        a.ja("offL4");

        a.label("offV6");
        bounds(a, R7, IPV6_HEADER_END, "steer");
        a.ldx(B, R4, R7, IPV6_NEXT_HEADER);
        a.mov64Imm(R5, 0);
        for (int i = 0; i < 32; i += 8)
        {
            a.ldx(DW, R1, R7, IPV6_SADDR + i).stx(DW, R10, FLOW_KEY + i, R1);
            // Sum as two 32-bit halves: the 64-bit sum could carry out of the register.
            a.mov64(R2, R1).alu64Imm(RSH, R2, 32).add64(R5, R2);
            a.alu32Reg(BpfAssembler.MOV, R1, R1).add64(R5, R1);
        }
        a.ldx(H, R1, R7, IPV6_PAYLOAD_LEN).toBigEndian(R1, 16);
        a.mov64(R2, R1).add64Imm(R2, 40).stx(DW, R10, IP_LENGTH, R2);
        a.mov64Imm(R2, 6).stx(DW, R10, FAMILY, R2);
        a.mov64(R9, R7).add64Imm(R9, IPV6_HEADER_END);

        // r1 = L4 length (host order), r4 = protocol, r5 = address sum (LE).
        a.label("offL4");
        a.toBigEndian(R1, 16).add64(R5, R1);
        a.mov64(R1, R4).alu64Imm(LSH, R1, 8).add64(R5, R1);
        fold(a, R5, R2, 3);
        a.stx(B, R10, FLOW_KEY + FlowKey.PROTOCOL_OFFSET, R4);
        a.jmpImm(JEQ, R4, VipKey.IPPROTO_TCP, "offTcp");
        a.jmpImm(JNE, R4, VipKey.IPPROTO_UDP, "steer");
        a.stx(DW, R10, L4_PROTO, R4);
        bounds(a, R9, 8, "steer");
        a.ldx(H, R1, R9, UDP_CHECKSUM);
        // IPv6 UDP must carry a checksum; IPv4 UDP without one (0) is offloaded and keeps 0.
        a.jmpImm(JNE, R1, 0, "offPartial");
        a.ldx(DW, R2, R10, FAMILY);
        a.jmpImm(JEQ, R2, 6, "steer");
        a.ja("offPorts");

        a.label("offTcp");
        a.stx(DW, R10, L4_PROTO, R4);
        bounds(a, R9, 20, "steer");
        a.ldx(B, R2, R9, TCP_FLAGS);
        a.jmpImm(JSET, R2, TCP_FIN_RST, "steer");
        a.alu64Imm(AND, R2, TCP_SYN_ACK);
        a.jmpImm(JEQ, R2, TCP_SYN, "steer");
        a.ldx(H, R1, R9, TCP_CHECKSUM);

        a.label("offPartial");
        a.jmpImm(JEQ, R5, 0, "offPorts");
        a.jmpReg(JEQ, R1, R5, "steer");

        a.label("offPorts");
        a.ldx(W, R1, R9, 0).stx(W, R10, FLOW_KEY + FlowKey.SOURCE_PORT_OFFSET, R1);

        // The flow first: a frame with no entry (every frame the forwarder must see) pays one lookup, not two.
        a.ldMapFd(R1, flows.flowsFd()).mov64(R2, R10).add64Imm(R2, FLOW_KEY).call(FN_MAP_LOOKUP_ELEM);
        a.jmpImm(JEQ, R0, 0, "steer");
        a.mov64(R8, R0);
        a.st(W, R10, ARRAY_KEY, 0);
        a.ldMapFd(R1, flows.epochFd()).mov64(R2, R10).add64Imm(R2, ARRAY_KEY).call(FN_MAP_LOOKUP_ELEM);
        a.jmpImm(JEQ, R0, 0, "steer");
        a.ldx(W, R2, R0, 0);
        a.ldx(W, R1, R8, FlowValue.EPOCH_OFFSET);
        a.jmpReg(JEQ, R1, R2, "offHit");
        count(a, counters, SteeringCounter.OFFLOAD_STALE);
        a.ja("steer");

        a.label("offHit");
        a.ldx(DW, R1, R10, FAMILY);
        a.jmpImm(JEQ, R1, 6, "offRewriteV6");
        a.ldx(W, R1, R8, FlowValue.NEW_SOURCE_OFFSET + 12).stx(W, R7, IPV4_SADDR, R1);
        a.ldx(W, R1, R8, FlowValue.NEW_DESTINATION_OFFSET + 12).stx(W, R7, IPV4_DADDR, R1);
        a.ldx(H, R1, R7, IPV4_CHECKSUM);
        applyDelta(a, FlowValue.IP_CHECKSUM_DELTA_OFFSET);
        a.stx(H, R7, IPV4_CHECKSUM, R1);
        a.ja("offL4Rewrite");

        a.label("offRewriteV6");
        for (int i = 0; i < 32; i += 8)
        {
            a.ldx(DW, R1, R8, FlowValue.NEW_SOURCE_OFFSET + i).stx(DW, R7, IPV6_SADDR + i, R1);
        }

        a.label("offL4Rewrite");
        a.ldx(W, R1, R8, FlowValue.NEW_SOURCE_PORT_OFFSET).stx(W, R9, 0, R1);
        a.ldx(DW, R3, R10, L4_PROTO);
        a.jmpImm(JEQ, R3, VipKey.IPPROTO_UDP, "offUdpSum");
        a.ldx(H, R1, R9, TCP_CHECKSUM);
        applyDelta(a, FlowValue.L4_CHECKSUM_DELTA_OFFSET);
        a.stx(H, R9, TCP_CHECKSUM, R1);
        a.ja("offMacs");
        a.label("offUdpSum");
        a.ldx(H, R1, R9, UDP_CHECKSUM);
        a.jmpImm(JEQ, R1, 0, "offMacs");
        applyDelta(a, FlowValue.L4_CHECKSUM_DELTA_OFFSET);
        a.jmpImm(JNE, R1, 0, "offUdpStore");
        a.mov64Imm(R1, 0xffff);
        a.label("offUdpStore");
        a.stx(H, R9, UDP_CHECKSUM, R1);

        a.label("offMacs");
        a.ldx(W, R1, R8, FlowValue.DESTINATION_MAC_OFFSET).stx(W, R7, 0, R1);
        a.ldx(H, R1, R8, FlowValue.DESTINATION_MAC_OFFSET + 4).stx(H, R7, 4, R1);
        a.ldx(H, R1, R8, FlowValue.SOURCE_MAC_OFFSET).stx(H, R7, 6, R1);
        a.ldx(W, R1, R8, FlowValue.SOURCE_MAC_OFFSET + 2).stx(W, R7, 8, R1);

        a.call(FN_KTIME_GET_NS).stx(DW, R8, FlowValue.LAST_SEEN_OFFSET, R0);
        slotCount(a, FlowValue.LISTENER_SLOT_OFFSET, "offListener");
        slotCount(a, FlowValue.BACKEND_SLOT_OFFSET, "offBackend");
        count(a, counters, SteeringCounter.OFFLOAD_FORWARDED);
        a.ldx(W, R1, R8, FlowValue.EGRESS_IFINDEX_OFFSET).ldx(W, R2, R6, XDP_MD_INGRESS_IFINDEX);
        a.jmpReg(JNE, R1, R2, "offRedirect");
        a.returnImm(XDP_TX);
        a.label("offRedirect");
        a.mov64Imm(R2, 0).call(FN_REDIRECT);
        a.exit();
    }

    /**
     * r1 = the checksum field loaded at r1 (LE) updated by the delta at r8 + deltaOffset, as LE ready to store:
     * c = (~checksum &amp; 0xFFFF) + delta, folded twice, complemented (RFC 1624 eqn. 3). Clobbers r2.
     */
    private static void applyDelta(final BpfAssembler a, final int deltaOffset)
    {
        a.toBigEndian(R1, 16).alu64Imm(XOR, R1, 0xffff);
        a.ldx(W, R2, R8, deltaOffset).add64(R1, R2);
        fold(a, R1, R2, 2);
        a.alu64Imm(XOR, R1, 0xffff).toBigEndian(R1, 16);
    }

    /** flow_counters[slot at r8 + slotOffset] += 1 packet, IP_LENGTH bytes in the entry's direction; skips NO_SLOT. */
    private void slotCount(final BpfAssembler a, final int slotOffset, final String prefix)
    {
        final String done = prefix + "Done";
        a.ldx(W, R1, R8, slotOffset);
        a.mov32Imm(R2, FlowValue.NO_SLOT);
        a.jmpReg(JEQ, R1, R2, done);
        a.stx(W, R10, ARRAY_KEY, R1);
        a.ldMapFd(R1, flows.countersFd()).mov64(R2, R10).add64Imm(R2, ARRAY_KEY).call(FN_MAP_LOOKUP_ELEM);
        a.jmpImm(JEQ, R0, 0, done);
        a.ldx(W, R1, R8, FlowValue.FLAGS_OFFSET);
        a.jmpImm(JSET, R1, FlowValue.FLAG_TO_BACKEND, prefix + "ToBackend");
        a.add64Imm(R0, FlowValue.COUNTERS_TO_CLIENT_OFFSET);
        a.label(prefix + "ToBackend");
        // Per-CPU slot: plain read-modify-write, no atomics needed.
        a.ldx(DW, R1, R0, 0).add64Imm(R1, 1).stx(DW, R0, 0, R1);
        a.ldx(DW, R1, R0, 8).ldx(DW, R2, R10, IP_LENGTH).add64(R1, R2).stx(DW, R0, 8, R1);
        a.label(done);
    }

    /** r7 += IHL × 4 of the IPv4 header at r7 (refusing IHL < 5). */
    private static void ihlAdvance(final BpfAssembler a)
    {
        a.ldx(B, R3, R7, 0).alu64Imm(AND, R3, 0x0f).alu64Imm(LSH, R3, 2);
        a.jmpImm(JLT, R3, 20, "malformed");
        a.add64(R7, R3);
    }

    /** counters[c]++ on this CPU (per-CPU slot: no atomics needed). */
    private void count(final BpfAssembler a, final int counters, final SteeringCounter counter)
    {
        final String skip = "count" + countLabels++;
        a.st(W, R10, COUNTER_INDEX, counter.index());
        a.ldMapFd(R1, counters).mov64(R2, R10).add64Imm(R2, COUNTER_INDEX).call(FN_MAP_LOOKUP_ELEM);
        a.jmpImm(JEQ, R0, 0, skip);
        a.ldx(DW, R1, R0, 0).add64Imm(R1, 1).stx(DW, R0, 0, R1);
        a.label(skip);
    }
}
