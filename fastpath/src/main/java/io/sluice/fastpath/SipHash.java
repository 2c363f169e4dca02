package io.sluice.fastpath;

/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012) over six 64-bit words, for SYN cookies: a keyed PRF, so cookies cannot
 * be predicted without the key. Written from the paper's description; no allocation.
 */
final class SipHash
{
    private SipHash()
    {
    }

    static long hash24(final long k0, final long k1, final long m0, final long m1, final long m2, final long m3,
        final long m4, final long m5)
    {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        // Six message words, then the final word carrying the length (48 bytes) in its top byte.
        final long last = 48L << 56;
        for (int i = 0; i < 7; i++)
        {
            final long m = switch (i)
            {
                case 0 -> m0;
                case 1 -> m1;
                case 2 -> m2;
                case 3 -> m3;
                case 4 -> m4;
                case 5 -> m5;
                default -> last;
            };
            v3 ^= m;
            for (int r = 0; r < 2; r++)
            {
                v0 += v1;
                v1 = Long.rotateLeft(v1, 13);
                v1 ^= v0;
                v0 = Long.rotateLeft(v0, 32);
                v2 += v3;
                v3 = Long.rotateLeft(v3, 16);
                v3 ^= v2;
                v0 += v3;
                v3 = Long.rotateLeft(v3, 21);
                v3 ^= v0;
                v2 += v1;
                v1 = Long.rotateLeft(v1, 17);
                v1 ^= v2;
                v2 = Long.rotateLeft(v2, 32);
            }
            v0 ^= m;
        }
        v2 ^= 0xff;
        for (int r = 0; r < 4; r++)
        {
            v0 += v1;
            v1 = Long.rotateLeft(v1, 13);
            v1 ^= v0;
            v0 = Long.rotateLeft(v0, 32);
            v2 += v3;
            v3 = Long.rotateLeft(v3, 16);
            v3 ^= v2;
            v0 += v3;
            v3 = Long.rotateLeft(v3, 21);
            v3 ^= v0;
            v2 += v1;
            v1 = Long.rotateLeft(v1, 17);
            v1 ^= v2;
            v2 = Long.rotateLeft(v2, 32);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }
}
