package io.sluice.fastpath.packet;

import org.agrona.DirectBuffer;

/**
 * Internet checksum (RFC 1071) and its incremental update (RFC 1624, eqn. 3: {@code HC' = ~(~HC + ~m + m')}).
 * <p>
 * Sums are carried unfolded in a long so a caller can add many 16-bit words before one {@link #fold(long)}.
 * A "delta" is the sum of the one's complement of every old word plus every new word; {@link #apply(int, long)}
 * applies it to a stored checksum. All values are 16-bit quantities in network order, as read big-endian.
 */
public final class Checksums
{
    private Checksums()
    {
    }

    /** One's complement sum of {@code length} bytes at {@code index}, added to {@code initial}, unfolded. */
    public static long sum(final DirectBuffer buffer, final int index, final int length, final long initial)
    {
        // one bounds check for the whole range, then the loads by address (FrameBytes: eight bytes a load)
        buffer.boundsCheck(index, length);
        return FrameBytes.sum(buffer.byteArray(), buffer.addressOffset(), index, length, initial);
    }

    /** Folds an unfolded sum into 16 bits with end-around carry. */
    public static int fold(final long sum)
    {
        // 64 -> 33 bits, then the carry added back: fits 32 bits unsigned, zero only if the sum was zero.
        final long s = (sum & 0xFFFF_FFFFL) + (sum >>> 32);
        final int x = (int)s + (int)(s >>> 32);
        // The high half of x + (x rotated by 16) is high + low + the carry out of the low half: the end-around sum
        // (as in Linux csum_fold); the same value as folding 16 bits at a time, in one rotate and add.
        return (x + Integer.rotateRight(x, 16)) >>> 16;
    }

    /** The checksum to store for a sum: its folded one's complement. */
    public static int finish(final long sum)
    {
        return ~fold(sum) & 0xFFFF;
    }

    /** Delta for replacing one 16-bit word. */
    public static long delta16(final int oldValue, final int newValue)
    {
        return (~oldValue & 0xFFFF) + (newValue & 0xFFFF);
    }

    /** Delta for replacing one 32-bit value (an IPv4 address). */
    public static long delta32(final int oldValue, final int newValue)
    {
        return (~oldValue >>> 16 & 0xFFFF) + (~oldValue & 0xFFFF) + (newValue >>> 16 & 0xFFFF) + (newValue & 0xFFFF);
    }

    /** Delta for replacing one 64-bit value (half of an IPv6 address). */
    public static long delta64(final long oldValue, final long newValue)
    {
        return delta32((int)(oldValue >>> 32), (int)(newValue >>> 32)) + delta32((int)oldValue, (int)newValue);
    }

    /** RFC 1624 eqn. 3 applied to a stored checksum. */
    public static int apply(final int checksum, final long delta)
    {
        return ~fold((~checksum & 0xFFFF) + delta) & 0xFFFF;
    }

    /** Unfolded sum of the IPv4 pseudo header (RFC 9293 §3.1, RFC 768). */
    public static long pseudoHeaderV4(final int source, final int destination, final int protocol, final int l4Length)
    {
        return (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF) + protocol + l4Length;
    }

    /** Unfolded sum of the IPv6 pseudo header (RFC 8200 §8.1). */
    public static long pseudoHeaderV6(
        final long sourceHigh, final long sourceLow, final long destinationHigh, final long destinationLow,
        final int protocol, final int l4Length)
    {
        return words(sourceHigh) + words(sourceLow) + words(destinationHigh) + words(destinationLow) + protocol + l4Length;
    }

    private static long words(final long value)
    {
        return (value >>> 48) + (value >>> 32 & 0xFFFF) + (value >>> 16 & 0xFFFF) + (value & 0xFFFF);
    }
}
