package io.sluice.fastpath.fuzz;

import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.sluice.fastpath.packet.Checksums;

/**
 * Seeded mutational fuzzer of Ethernet frames. Takes valid seed frames (v4/v6, TCP/UDP/ICMP, 802.1Q) and writes a
 * mutant of one of them into a caller's buffer: 1–4 of bit flips, random bytes, a header length field (IHL, total
 * length, payload length, TCP data offset, UDP length) set to a random or boundary value, TCP flags, the protocol or
 * EtherType, truncation, growth with random bytes; then, half the time, the checksums are fixed up so the mutant gets
 * past checksum checks into the deeper stages. {@link #next} does not allocate.
 * <p>
 * A mutant that carries one of the protected 5-tuples (a flow under test) in either direction is never produced
 * with a valid checksum: such a frame is a legitimate segment of that flow (a valid RST would rightly end it). The
 * fuzzer re-breaks its L4 checksum instead ({@link #guarded()} counts them).
 */
public final class FrameFuzzer
{
    public static final int MAX_FRAME = 2048;

    private final long seed;
    private final SplittableRandom random;
    private final byte[][] seeds;
    private final long[][] protectedTuples;
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private long produced;
    private long guarded;

    /**
     * @param protectedTuples each {srcAddrHigh, srcAddrLow, dstAddrHigh, dstAddrLow, srcPort, dstPort, protocol}
     *                        in sluice's 128-bit address form (IPv4-mapped for v4), matched in both directions.
     */
    public FrameFuzzer(final long seed, final List<byte[]> seedFrames, final List<long[]> protectedTuples)
    {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.seeds = seedFrames.toArray(new byte[0][]);
        this.protectedTuples = protectedTuples.toArray(new long[0][]);
    }

    /** The seed from the system property {@code sluice.fuzz.seed} if set, else a fresh one (print it). */
    public static long seedFromEnvironment()
    {
        final String s = System.getProperty("sluice.fuzz.seed");
        return s != null ? Long.parseLong(s) : System.nanoTime() ^ 0x5DEECE66DL;
    }

    public long seed()
    {
        return seed;
    }

    public long produced()
    {
        return produced;
    }

    public long guarded()
    {
        return guarded;
    }

    /** Writes the next mutant at {@code buffer[0..]} (capacity ≥ {@link #MAX_FRAME}). @return its length. */
    public int next(final MutableDirectBuffer buffer)
    {
        final byte[] source = seeds[random.nextInt(seeds.length)];
        buffer.putBytes(0, source);
        int length = source.length;
        final int mutations = 1 + random.nextInt(4);
        for (int m = 0; m < mutations; m++)
        {
            length = mutate(buffer, length);
        }
        if (random.nextBoolean())
        {
            fixChecksums(buffer, length);
        }
        if (isProtected(buffer, length))
        {
            guarded++;
            breakL4Checksum(buffer, length);
        }
        produced++;
        return length;
    }

    private int mutate(final MutableDirectBuffer b, final int length)
    {
        if (length == 0)
        {
            return 0;
        }
        final int l3 = l3(b, length);
        final int kind = random.nextInt(12);
        switch (kind)
        {
            case 0 ->
            {
                final int at = random.nextInt(length);
                b.putByte(at, (byte)(b.getByte(at) ^ (1 << random.nextInt(8))));
            }
            case 1 -> b.putByte(random.nextInt(length), (byte)random.nextInt(256));
            case 2 ->
            {
                if (l3 + 1 < length)
                {
                    b.putByte(l3, (byte)random.nextInt(256));
                }
            }
            case 3 ->
            {
                // IPv4 total length or IPv6 payload length
                final int at = l3 + (version(b, l3, length) == 6 ? 4 : 2);
                if (at + 2 <= length)
                {
                    b.putShort(at, (short)boundary(length - l3), ByteOrder.BIG_ENDIAN);
                }
            }
            case 4 ->
            {
                final int l4 = l4(b, l3, length);
                if (l4 > 0 && l4 + 13 < length)
                {
                    b.putByte(l4 + 12, (byte)(random.nextInt(16) << 4));
                }
            }
            case 5 ->
            {
                final int l4 = l4(b, l3, length);
                if (l4 > 0 && l4 + 14 <= length)
                {
                    b.putByte(l4 + 13, (byte)random.nextInt(64));
                }
            }
            case 6 ->
            {
                final int l4 = l4(b, l3, length);
                if (l4 > 0 && l4 + 6 <= length)
                {
                    b.putShort(l4 + 4, (short)boundary(length - l4), ByteOrder.BIG_ENDIAN);
                }
            }
            case 7 ->
            {
                final int at = l3 + (version(b, l3, length) == 6 ? 6 : 9);
                if (at < length)
                {
                    final int[] protocols = {0, 1, 6, 17, 44, 47, 58, 132, random.nextInt(256)};
                    b.putByte(at, (byte)protocols[random.nextInt(protocols.length)]);
                }
            }
            case 8 ->
            {
                final int[] types = {0x0800, 0x86DD, 0x8100, 0x0806, 0x88A8, random.nextInt(65536)};
                b.putShort(12, (short)types[random.nextInt(types.length)], ByteOrder.BIG_ENDIAN);
            }
            case 9 ->
            {
                return random.nextInt(length + 1);
            }
            case 10 ->
            {
                final int grown = Math.min(MAX_FRAME, length + 1 + random.nextInt(64));
                for (int i = length; i < grown; i++)
                {
                    b.putByte(i, (byte)random.nextInt(256));
                }
                return grown;
            }
            default ->
            {
                // IPv4 fragment bits
                if (version(b, l3, length) == 4 && l3 + 8 <= length)
                {
                    b.putShort(l3 + 6, (short)random.nextInt(65536), ByteOrder.BIG_ENDIAN);
                }
            }
        }
        return length;
    }

    private int boundary(final int actual)
    {
        final int[] values = {0, 1, 7, 8, 19, 20, 39, 40, actual - 1, actual, actual + 1, 65535, random.nextInt(65536)};
        return values[random.nextInt(values.length)] & 0xFFFF;
    }

    private static int l3(final MutableDirectBuffer b, final int length)
    {
        if (length >= 18 && (b.getShort(12, ByteOrder.BIG_ENDIAN) & 0xFFFF) == 0x8100)
        {
            return 18;
        }
        return 14;
    }

    private static int version(final MutableDirectBuffer b, final int l3, final int length)
    {
        return l3 < length ? (b.getByte(l3) >> 4) & 0xF : -1;
    }

    /** Offset of the L4 header by the (possibly mutated) IP header, or -1 when there is none to find. */
    private static int l4(final MutableDirectBuffer b, final int l3, final int length)
    {
        final int v = version(b, l3, length);
        if (v == 4)
        {
            final int l4 = l3 + ((b.getByte(l3) & 0xF) << 2);
            return l4 < length ? l4 : -1;
        }
        if (v == 6)
        {
            return l3 + 40 < length ? l3 + 40 : -1;
        }
        return -1;
    }

    /** IPv4 header, then TCP/UDP/ICMP checksums, by what the (mutated) headers say, where they fit in the frame. */
    private static void fixChecksums(final MutableDirectBuffer b, final int length)
    {
        final int l3 = l3(b, length);
        final int v = version(b, l3, length);
        final int protocol;
        final int l4;
        final int l4Length;
        final long pseudo;
        if (v == 4 && l3 + 20 <= length)
        {
            final int ihl = (b.getByte(l3) & 0xF) << 2;
            if (ihl < 20 || l3 + ihl > length)
            {
                return;
            }
            b.putShort(l3 + 10, (short)0);
            b.putShort(l3 + 10, (short)Checksums.finish(Checksums.sum(b, l3, ihl, 0)), ByteOrder.BIG_ENDIAN);
            protocol = b.getByte(l3 + 9) & 0xFF;
            l4 = l3 + ihl;
            l4Length = (b.getShort(l3 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF) - ihl;
            pseudo = protocol == 1 ? 0 : Checksums.pseudoHeaderV4(b.getInt(l3 + 12, ByteOrder.BIG_ENDIAN),
                b.getInt(l3 + 16, ByteOrder.BIG_ENDIAN), protocol, l4Length);
        }
        else if (v == 6 && l3 + 40 <= length)
        {
            protocol = b.getByte(l3 + 6) & 0xFF;
            l4 = l3 + 40;
            l4Length = b.getShort(l3 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            pseudo = Checksums.pseudoHeaderV6(b.getLong(l3 + 8, ByteOrder.BIG_ENDIAN), b.getLong(l3 + 16, ByteOrder.BIG_ENDIAN),
                b.getLong(l3 + 24, ByteOrder.BIG_ENDIAN), b.getLong(l3 + 32, ByteOrder.BIG_ENDIAN), protocol, l4Length);
        }
        else
        {
            return;
        }
        final int at = checksumAt(protocol, l4);
        if (at < 0 || l4Length < 0 || l4 + l4Length > length || at + 2 > l4 + l4Length)
        {
            return;
        }
        b.putShort(at, (short)0);
        int checksum = Checksums.finish(Checksums.sum(b, l4, l4Length, pseudo));
        if (checksum == 0 && protocol == 17)
        {
            checksum = 0xFFFF;
        }
        b.putShort(at, (short)checksum, ByteOrder.BIG_ENDIAN);
    }

    private static int checksumAt(final int protocol, final int l4)
    {
        return switch (protocol)
        {
            case 6 -> l4 + 16;
            case 17 -> l4 + 6;
            case 1, 58 -> l4 + 2;
            default -> -1;
        };
    }

    private boolean isProtected(final MutableDirectBuffer b, final int length)
    {
        if (protectedTuples.length == 0)
        {
            return false;
        }
        final int l3 = l3(b, length);
        final int v = version(b, l3, length);
        final long sh;
        final long sl;
        final long dh;
        final long dl;
        final int protocol;
        final int l4 = l4(b, l3, length);
        if (l4 < 0 || l4 + 4 > length)
        {
            return false;
        }
        if (v == 4)
        {
            sh = 0;
            sl = 0xFFFF_0000_0000L | (b.getInt(l3 + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL);
            dh = 0;
            dl = 0xFFFF_0000_0000L | (b.getInt(l3 + 16, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL);
            protocol = b.getByte(l3 + 9) & 0xFF;
        }
        else
        {
            sh = b.getLong(l3 + 8, ByteOrder.BIG_ENDIAN);
            sl = b.getLong(l3 + 16, ByteOrder.BIG_ENDIAN);
            dh = b.getLong(l3 + 24, ByteOrder.BIG_ENDIAN);
            dl = b.getLong(l3 + 32, ByteOrder.BIG_ENDIAN);
            protocol = b.getByte(l3 + 6) & 0xFF;
        }
        final int sp = b.getShort(l4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int dp = b.getShort(l4 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        for (final long[] t : protectedTuples)
        {
            if (t[6] != protocol)
            {
                continue;
            }
            if (t[0] == sh && t[1] == sl && t[2] == dh && t[3] == dl && t[4] == sp && t[5] == dp ||
                t[0] == dh && t[1] == dl && t[2] == sh && t[3] == sl && t[4] == dp && t[5] == sp)
            {
                return true;
            }
        }
        return false;
    }

    /** Makes the L4 checksum wrong (or, when it cannot be reached, the IP header), so the frame cannot pass. */
    private static void breakL4Checksum(final MutableDirectBuffer b, final int length)
    {
        final int l3 = l3(b, length);
        final int v = version(b, l3, length);
        final int protocol = v == 4 ? b.getByte(l3 + 9) & 0xFF : b.getByte(l3 + 6) & 0xFF;
        final int l4 = l4(b, l3, length);
        final int at = checksumAt(protocol, l4);
        if (at >= 0 && at + 2 <= length)
        {
            b.putShort(at, (short)(b.getShort(at) ^ 0x5A5A));
        }
        else
        {
            // No reachable checksum: a truncated frame, which the forwarder refuses anyway; make the IP version wrong
            b.putByte(l3, (byte)0x00);
        }
    }
}
