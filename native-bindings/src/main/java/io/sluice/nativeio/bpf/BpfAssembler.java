package io.sluice.nativeio.bpf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small eBPF assembler: enough to write XDP programs in Java without clang.
 * <p>
 * Instructions are {@code struct bpf_insn} (linux/bpf.h): {@code u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm},
 * encoded here as one little-endian long per 8-byte slot. {@code ld_imm64} (map fds, 64-bit constants) takes two slots,
 * and jump offsets count slots, not instructions: labels are resolved on slots so that this cannot go wrong (the
 * verifier does not catch a jump that lands one slot off on a harmless instruction).
 */
public final class BpfAssembler
{
    public static final int R0 = 0;
    public static final int R1 = 1;
    public static final int R2 = 2;
    public static final int R3 = 3;
    public static final int R4 = 4;
    public static final int R5 = 5;
    public static final int R6 = 6;
    public static final int R7 = 7;
    public static final int R8 = 8;
    public static final int R9 = 9;
    /** Read-only frame pointer; the stack is the 512 bytes below it. */
    public static final int R10 = 10;

    // Instruction classes.
    static final int BPF_LD = 0x00;
    static final int BPF_LDX = 0x01;
    static final int BPF_ST = 0x02;
    static final int BPF_STX = 0x03;
    static final int BPF_ALU = 0x04;
    static final int BPF_JMP = 0x05;
    static final int BPF_ALU64 = 0x07;

    /** Access sizes. */
    public static final int W = 0x00;
    public static final int H = 0x08;
    public static final int B = 0x10;
    public static final int DW = 0x18;

    static final int BPF_IMM = 0x00;
    static final int BPF_MEM = 0x60;
    static final int BPF_ATOMIC = 0xc0;
    static final int BPF_K = 0x00;
    static final int BPF_X = 0x08;

    /** ALU operations. */
    public static final int ADD = 0x00;
    public static final int SUB = 0x10;
    public static final int MUL = 0x20;
    public static final int OR = 0x40;
    public static final int AND = 0x50;
    public static final int LSH = 0x60;
    public static final int RSH = 0x70;
    public static final int XOR = 0xa0;
    public static final int MOV = 0xb0;
    static final int END = 0xd0;

    /** Jump operations (unsigned compares unless S). */
    public static final int JA = 0x00;
    public static final int JEQ = 0x10;
    public static final int JGT = 0x20;
    public static final int JGE = 0x30;
    public static final int JSET = 0x40;
    public static final int JNE = 0x50;
    public static final int JSGT = 0x60;
    public static final int JLT = 0xa0;
    public static final int JLE = 0xb0;
    static final int CALL = 0x80;
    static final int EXIT = 0x90;

    /** src_reg of an ld_imm64 whose imm is a map fd. */
    static final int BPF_PSEUDO_MAP_FD = 1;

    /** Helper ids (enum bpf_func_id). */
    public static final int FN_MAP_LOOKUP_ELEM = 1;
    public static final int FN_MAP_UPDATE_ELEM = 2;
    public static final int FN_KTIME_GET_NS = 5;
    public static final int FN_REDIRECT = 23;
    public static final int FN_CSUM_DIFF = 28;
    public static final int FN_REDIRECT_MAP = 51;

    private long[] slots = new long[256];
    private int count;
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<Object[]> fixups = new ArrayList<>();

    private static long encode(final int code, final int dst, final int src, final int off, final int imm)
    {
        return (code & 0xffL) | ((long)(dst & 0xf) << 8) | ((long)(src & 0xf) << 12) | ((long)(off & 0xffff) << 16)
            | ((imm & 0xffffffffL) << 32);
    }

    private BpfAssembler emit(final long insn)
    {
        if (count == slots.length)
        {
            slots = Arrays.copyOf(slots, count * 2);
        }
        slots[count++] = insn;
        return this;
    }

    /** @return the number of 8-byte slots emitted so far. */
    public int size()
    {
        return count;
    }

    /** Define {@code name} at the next slot. */
    public BpfAssembler label(final String name)
    {
        if (labels.putIfAbsent(name, count) != null)
        {
            throw new IllegalArgumentException("label defined twice: " + name);
        }
        return this;
    }

    // ---- ALU ----

    public BpfAssembler alu64Imm(final int op, final int dst, final int imm)
    {
        return emit(encode(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm));
    }

    public BpfAssembler alu64Reg(final int op, final int dst, final int src)
    {
        return emit(encode(BPF_ALU64 | op | BPF_X, dst, src, 0, 0));
    }

    public BpfAssembler alu32Imm(final int op, final int dst, final int imm)
    {
        return emit(encode(BPF_ALU | op | BPF_K, dst, 0, 0, imm));
    }

    public BpfAssembler alu32Reg(final int op, final int dst, final int src)
    {
        return emit(encode(BPF_ALU | op | BPF_X, dst, src, 0, 0));
    }

    /** dst = imm as an unsigned 32-bit value (a 32-bit move zero-extends; a 64-bit one sign-extends imm). */
    public BpfAssembler mov32Imm(final int dst, final int imm)
    {
        return alu32Imm(MOV, dst, imm);
    }

    public BpfAssembler mov64Imm(final int dst, final int imm)
    {
        return alu64Imm(MOV, dst, imm);
    }

    public BpfAssembler mov64(final int dst, final int src)
    {
        return alu64Reg(MOV, dst, src);
    }

    public BpfAssembler add64Imm(final int dst, final int imm)
    {
        return alu64Imm(ADD, dst, imm);
    }

    public BpfAssembler add64(final int dst, final int src)
    {
        return alu64Reg(ADD, dst, src);
    }

    /** Convert the low {@code bits} (16, 32, 64) of dst between host (little-endian) and network order. */
    public BpfAssembler toBigEndian(final int dst, final int bits)
    {
        return emit(encode(BPF_ALU | END | BPF_X, dst, 0, 0, bits));
    }

    // ---- memory ----

    /** dst = *(size *)(src + off). */
    public BpfAssembler ldx(final int size, final int dst, final int src, final int off)
    {
        return emit(encode(BPF_LDX | size | BPF_MEM, dst, src, off, 0));
    }

    /** *(size *)(dst + off) = src. */
    public BpfAssembler stx(final int size, final int dst, final int off, final int src)
    {
        return emit(encode(BPF_STX | size | BPF_MEM, dst, src, off, 0));
    }

    /** *(size *)(dst + off) = imm. */
    public BpfAssembler st(final int size, final int dst, final int off, final int imm)
    {
        return emit(encode(BPF_ST | size | BPF_MEM, dst, 0, off, imm));
    }

    /** dst = 64-bit constant (two slots). */
    public BpfAssembler ldImm64(final int dst, final long value)
    {
        emit(encode(BPF_LD | DW | BPF_IMM, dst, 0, 0, (int)value));
        return emit(encode(0, 0, 0, 0, (int)(value >>> 32)));
    }

    /** dst = the map behind {@code mapFd} (two slots, src_reg BPF_PSEUDO_MAP_FD; the kernel patches in the pointer). */
    public BpfAssembler ldMapFd(final int dst, final int mapFd)
    {
        emit(encode(BPF_LD | DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, mapFd));
        return emit(0L);
    }

    /** Atomic *(size *)(dst + off) += src (BPF_ATOMIC with BPF_ADD; size W or DW): for maps shared between CPUs. */
    public BpfAssembler atomicAdd(final int size, final int dst, final int off, final int src)
    {
        return emit(encode(BPF_STX | size | BPF_ATOMIC, dst, src, off, ADD));
    }

    // ---- jumps ----

    private BpfAssembler jump(final long insn, final String target)
    {
        fixups.add(new Object[] {count, target});
        return emit(insn);
    }

    public BpfAssembler ja(final String target)
    {
        return jump(encode(BPF_JMP | JA, 0, 0, 0, 0), target);
    }

    /** if (dst op imm) goto target. */
    public BpfAssembler jmpImm(final int op, final int dst, final int imm, final String target)
    {
        return jump(encode(BPF_JMP | op | BPF_K, dst, 0, 0, imm), target);
    }

    /** if (dst op src) goto target. */
    public BpfAssembler jmpReg(final int op, final int dst, final int src, final String target)
    {
        return jump(encode(BPF_JMP | op | BPF_X, dst, src, 0, 0), target);
    }

    public BpfAssembler call(final int helper)
    {
        return emit(encode(BPF_JMP | CALL, 0, 0, 0, helper));
    }

    public BpfAssembler exit()
    {
        return emit(encode(BPF_JMP | EXIT, 0, 0, 0, 0));
    }

    /** r0 = imm; exit. */
    public BpfAssembler returnImm(final int imm)
    {
        return mov64Imm(R0, imm).exit();
    }

    /** Emit a raw instruction (for tests that need what the assembler refuses to make). */
    public BpfAssembler raw(final int code, final int dst, final int src, final int off, final int imm)
    {
        return emit(encode(code, dst, src, off, imm));
    }

    /** @return the program with every jump resolved; fails on an undefined label or an offset beyond s16. */
    public long[] assemble()
    {
        final long[] program = Arrays.copyOf(slots, count);
        for (final Object[] fixup : fixups)
        {
            final int slot = (Integer)fixup[0];
            final String target = (String)fixup[1];
            final Integer at = labels.get(target);
            if (at == null)
            {
                throw new IllegalStateException("undefined label: " + target);
            }
            final int offset = at - (slot + 1);
            if (offset < Short.MIN_VALUE || offset > Short.MAX_VALUE)
            {
                throw new IllegalStateException("jump to " + target + " out of range: " + offset);
            }
            program[slot] = (program[slot] & ~(0xffffL << 16)) | ((long)(offset & 0xffff) << 16);
        }
        return program;
    }
}
