package io.sluice.fastpath;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FrameSlotsTest
{
    @Test
    void shouldHoldACopyOfEachFrameInItsSlotAndMoveAndClearThem()
    {
        final FrameSlots slots = new FrameSlots(3, 16);
        final UnsafeBuffer source = new UnsafeBuffer(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertThat(slots.fits(16)).isTrue();
        assertThat(slots.fits(17)).isFalse();
        assertThat(slots.length(2)).as("empty").isZero();

        slots.put(2, source, 3, 4);
        source.putByte(3, (byte)99);

        assertThat(slots.length(2)).isEqualTo(4);
        assertThat(bytes(slots, 2)).as("a copy: the source is recycled").containsExactly(3, 4, 5, 6);
        slots.move(2, 0);
        assertThat(bytes(slots, 0)).containsExactly(3, 4, 5, 6);
        slots.clear(2);
        assertThat(slots.length(2)).isZero();
        assertThat(slots.length(0)).isEqualTo(4);
        assertThat(slots.offset(1)).isEqualTo(16);
    }

    private static byte[] bytes(final FrameSlots slots, final int slot)
    {
        final byte[] out = new byte[slots.length(slot)];
        slots.buffer().getBytes(slots.offset(slot), out);
        return out;
    }
}
