package io.sluice.nativeio.xdp;

import io.sluice.nativeio.bpf.BpfAssembler;

import static io.sluice.nativeio.bpf.BpfAssembler.AND;
import static io.sluice.nativeio.bpf.BpfAssembler.B;
import static io.sluice.nativeio.bpf.BpfAssembler.DW;
import static io.sluice.nativeio.bpf.BpfAssembler.FN_MAP_LOOKUP_ELEM;
import static io.sluice.nativeio.bpf.BpfAssembler.FN_REDIRECT_MAP;
import static io.sluice.nativeio.bpf.BpfAssembler.H;
import static io.sluice.nativeio.bpf.BpfAssembler.JEQ;
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
import static io.sluice.nativeio.bpf.BpfAssembler.W;

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

    private final boolean tc;
    private int countLabels;

    private SteeringProgram(final boolean tc)
    {
        this.tc = tc;
    }

    /** @return the XDP program's instructions for the given map fds. */
    public static long[] build(final int vipMapFd, final int xsksMapFd, final int countersMapFd)
    {
        return new SteeringProgram(false).assemble(vipMapFd, xsksMapFd, countersMapFd);
    }

    /**
     * @return the same lookup as a tc classifier (BPF_PROG_TYPE_SCHED_CLS, attached at TCX ingress) for interfaces
     *     served by AF_PACKET: a packet socket only taps a copy, so what would be redirected is dropped here instead
     *     (TC_ACT_SHOT) and the kernel never answers it with a RST or port unreachable; the rest goes on (TC_ACT_OK).
     */
    public static long[] buildTc(final int vipMapFd, final int countersMapFd)
    {
        return new SteeringProgram(true).assemble(vipMapFd, -1, countersMapFd);
    }

    private long[] assemble(final int vipMap, final int xsksMap, final int counters)
    {
        final BpfAssembler a = new BpfAssembler();
        a.mov64(R6, R1);
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
        a.mov64(R2, R7).add64Imm(R2, n).jmpReg(JGT, R2, R8, "malformed");
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
