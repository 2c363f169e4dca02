package io.sluice.fastpath.packet;

import java.util.SplittableRandom;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ChecksumsTest
{
    @Test
    void shouldBuildFramesWithValidChecksumsForEveryFamilyAndProtocol()
    {
        assertThat(FrameChecks.checksumsValid(PacketBuilder.tcp().payload("hello").build())).isTrue();
        assertThat(FrameChecks.checksumsValid(PacketBuilder.udp().payload("odd").build())).isTrue();
        assertThat(FrameChecks.checksumsValid(PacketBuilder.tcp().vlan(7).from("2001:2::1", 1).to("2001:2::64", 80).build()))
            .isTrue();
        assertThat(FrameChecks.checksumsValid(PacketBuilder.udp().from("2001:2::1", 1).to("2001:2::64", 53).build())).isTrue();
        assertThat(FrameChecks.checksumsValid(PacketBuilder.tcp().badL4Checksum().build())).isFalse();
        assertThat(FrameChecks.checksumsValid(PacketBuilder.tcp().partialChecksum().payload("x").build())).isFalse();
    }

    @Test
    void shouldMatchFullRecomputationWhenUpdatedIncrementally()
    {
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 10_000; i++)
        {
            final byte[] data = new byte[2 + random.nextInt(64) * 2];
            for (int j = 0; j < data.length; j++)
            {
                data[j] = (byte)random.nextInt();
            }
            final UnsafeBuffer b = new UnsafeBuffer(data);
            final int before = Checksums.finish(Checksums.sum(b, 0, data.length, 0));
            final int at = random.nextInt(data.length / 2) * 2;
            final int oldWord = b.getShort(at, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF;
            final int newWord = random.nextInt(0x10000);
            b.putShort(at, (short)newWord, java.nio.ByteOrder.BIG_ENDIAN);
            final int full = Checksums.finish(Checksums.sum(b, 0, data.length, 0));
            final int incremental = Checksums.apply(before, Checksums.delta16(oldWord, newWord));
            // 0x0000 and 0xFFFF are the same one's-complement value; both verify.
            assertThat(incremental == full || (incremental ^ full) == 0xFFFF).as("iteration %d", i).isTrue();
        }
    }

    @Test
    void shouldComputeDeltasForWideFields()
    {
        final int oldAddress = 0xC612_0001;
        final int newAddress = 0xC612_020A;
        assertThat(Checksums.delta32(oldAddress, newAddress))
            .isEqualTo(Checksums.delta16(0xC612, 0xC612) + Checksums.delta16(0x0001, 0x020A));
        assertThat(Checksums.delta64(0x1L, 0x2L)).isEqualTo(Checksums.delta32(0, 0) + Checksums.delta32(1, 2));
    }

    @Test
    void shouldFoldEverySumLikeTheSixteenBitsAtATimeDefinition()
    {
        final long[] edges = {0, 1, 0xFFFF, 0x1_0000, 0x1_FFFE, 0xFFFF_FFFFL, 0x1_0000_0000L, 0x1_FFFF_FFFEL, -1L, Long.MIN_VALUE,
            Long.MAX_VALUE, 0xFFFF_0000_FFFF_0000L};
        for (final long sum : edges)
        {
            assertThat(Checksums.fold(sum)).as("fold(%x)", sum).isEqualTo(referenceFold(sum));
        }
        final java.util.SplittableRandom random = new java.util.SplittableRandom(20261126);
        for (int i = 0; i < 1_000_000; i++)
        {
            final long sum = random.nextLong() >>> random.nextInt(64);
            assertThat(Checksums.fold(sum)).isEqualTo(referenceFold(sum));
        }
    }

    /** RFC 1071's definition: add the 16-bit words of the 64-bit sum, end-around carry until 16 bits remain. */
    private static int referenceFold(final long sum)
    {
        long s = (sum & 0xFFFF) + ((sum >>> 16) & 0xFFFF) + ((sum >>> 32) & 0xFFFF) + (sum >>> 48);
        while ((s >>> 16) != 0)
        {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int)s;
    }
}
