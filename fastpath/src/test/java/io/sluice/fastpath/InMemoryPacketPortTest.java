package io.sluice.fastpath;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-memory port counts its work as {@code io.PacketIoPort} does: frames received plus frames pushed out. */
class InMemoryPacketPortTest
{
    private static final long MAC = 0x02_00_00_00_01_10L;

    @Test
    void shouldCountFramesItReceivedAndFramesItPushedOut()
    {
        final InMemoryPacketPort port = new InMemoryPacketPort(MAC, 8);
        port.inject(new byte[] {1, 1, 1});
        port.inject(new byte[] {2, 2});

        // the first frame is kept (transmitted back), the second consumed: 2 received + 1 pushed out
        final int work = port.poll((buffer, offset, length) -> buffer.getByte(offset) == 1 ? length : PacketPort.CONSUMED, 64);

        assertThat(work).isEqualTo(3);
        assertThat(port.drainTransmitted()).containsExactly(new byte[] {1, 1, 1});
        assertThat(port.received()).isEqualTo(2);
        assertThat(port.transmitted()).isEqualTo(1);
    }

    @Test
    void shouldPushFramesOtherPortsSentOutInItsNextPollAndCountThemAsWork()
    {
        final InMemoryPacketPort port = new InMemoryPacketPort(MAC, 8);
        final PacketPort.FrameHandler unexpected = (buffer, offset, length) ->
        {
            throw new AssertionError("nothing to receive");
        };

        // another port's frame leaving by this one (FullNAT: in by one interface, out by another)
        assertThat(port.send(new UnsafeBuffer(new byte[] {9, 8, 7, 6}), 1, 2)).isTrue();
        assertThat(port.drainTransmitted()).as("queued until this port's poll flushes").isEmpty();

        assertThat(port.poll(unexpected, 64)).as("a flush-only poll is work").isEqualTo(1);
        assertThat(port.drainTransmitted()).containsExactly(new byte[] {8, 7});
        assertThat(port.poll(unexpected, 64)).as("nothing received, nothing to push: idle").isZero();
        assertThat(port.transmitted()).isEqualTo(1);
    }
}
