package io.sluice.fastpath.packet;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;

/**
 * Checks of a received frame that go beyond its lengths: checksums and TCP options. Pure functions over the buffer,
 * no allocation.
 * <p>
 * <b>Partial checksums.</b> A frame a local sender handed to a veth with TX checksum offload reaches AF_XDP with
 * CHECKSUM_PARTIAL: its L4 checksum field holds only the folded pseudo-header sum, and nothing in an XDP/AF_XDP
 * descriptor says so. Such a field is recognised by value (it equals the fold of the pseudo header the frame's own
 * addresses and length give) and accepted unverified; the parse tells the rewrite which it was, and the rewrite then
 * completes a partial field. A complete checksum that happens to equal that value verifies first and is kept as
 * complete (updated incrementally, which gives the same 16 bits as a recomputation).
 */
public final class FrameValidation
{
    private FrameValidation()
    {
    }

    /**
     * @param pseudo unfolded pseudo-header sum of the segment ({@link Checksums#pseudoHeaderV4}/{@code V6}), or 0
     *               for ICMPv4, which has none (a partial ICMPv4 checksum would then read 0; it is not accepted).
     * @return true when the segment's checksum verifies, or its field holds a partial (pseudo-header only) sum.
     */
    public static boolean l4ChecksumValid(final DirectBuffer buffer, final int l4Offset, final int l4Length,
        final int checksumOffset, final long pseudo)
    {
        final int field = buffer.getShort(checksumOffset, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (pseudo != 0 && field == Checksums.fold(pseudo))
        {
            return true;
        }
        return Checksums.fold(Checksums.sum(buffer, l4Offset, l4Length, pseudo)) == 0xFFFF;
    }

    /** {@link #l4Checksum}: the complete checksum verifies. */
    public static final int L4_COMPLETE = 0;
    /** {@link #l4Checksum}: the field holds the folded pseudo-header sum only (CHECKSUM_PARTIAL), not verified. */
    public static final int L4_PARTIAL = 1;
    /** {@link #l4Checksum}: neither. */
    public static final int L4_INVALID = 2;

    /**
     * The same acceptance as {@link #l4ChecksumValid(DirectBuffer, int, int, int, long)}, the complete checksum
     * tried first: a received frame's checksum is complete, so the pseudo header's fold (the partial test) is taken
     * only for a segment that does not verify. Reads through the buffer's base object and address ({@link FrameBytes}).
     *
     * @return {@link #L4_COMPLETE}, {@link #L4_PARTIAL} or {@link #L4_INVALID}
     */
    public static int l4Checksum(final Object base, final long address, final int l4Offset, final int l4Length,
        final int checksumOffset, final long pseudo)
    {
        if (Checksums.fold(FrameBytes.sum(base, address, l4Offset, l4Length, pseudo)) == 0xFFFF)
        {
            return L4_COMPLETE;
        }
        if (pseudo != 0 && FrameBytes.getUnsignedShort(base, address, checksumOffset) == Checksums.fold(pseudo))
        {
            return L4_PARTIAL;
        }
        return L4_INVALID;
    }

    /**
     * TCP options (RFC 9293 §3.2) walk within the header: end of list (0) stops, no-operation (1) is one byte, any
     * other kind needs a length byte inside the header with 2 ≤ length ≤ what is left.
     */
    public static boolean tcpOptionsValid(final DirectBuffer buffer, final int tcpOffset, final int headerLength)
    {
        int i = tcpOffset + TcpFlyweight.MIN_HEADER_LENGTH;
        final int end = tcpOffset + headerLength;
        while (i < end)
        {
            final int kind = buffer.getByte(i) & 0xFF;
            if (kind == 0)
            {
                return true;
            }
            if (kind == 1)
            {
                i++;
                continue;
            }
            if (i + 1 >= end)
            {
                return false;
            }
            final int length = buffer.getByte(i + 1) & 0xFF;
            if (length < 2 || i + length > end)
            {
                return false;
            }
            i += length;
        }
        return true;
    }
}
