package io.sluice.l7;

/** 64-bit hashing for scheduler keys and server ids: FNV-1a over chars, then a murmur3 finaliser to spread the bits. */
final class Hashing
{
    private Hashing()
    {
    }

    static long hash64(final CharSequence value)
    {
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < value.length(); i++)
        {
            hash ^= value.charAt(i);
            hash *= 0x100000001b3L;
        }
        return mix(hash);
    }

    static long mix(final long value)
    {
        long h = value;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
