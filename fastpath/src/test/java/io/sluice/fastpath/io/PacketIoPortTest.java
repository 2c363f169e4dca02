package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.sluice.nativeio.packet.FrameHandler;
import io.sluice.nativeio.packet.PacketIo;

import static org.assertj.core.api.Assertions.assertThat;

/** What a poll reports as work: the frames it received and the frames its flush pushed out. */
class PacketIoPortTest
{
    /** Receives nothing; every flush reports what was queued since the last one. */
    private static final class QueueOnlyIo implements PacketIo
    {
        private int queued;

        @Override
        public int receive(final FrameHandler handler, final int limit)
        {
            return 0;
        }

        @Override
        public boolean send(final MemorySegment frame, final long offset, final int length)
        {
            queued++;
            return true;
        }

        @Override
        public int flush()
        {
            final int n = queued;
            queued = 0;
            return n;
        }

        @Override
        public String kind()
        {
            return "test";
        }

        @Override
        public void close()
        {
        }
    }

    @Test
    void shouldCountFramesAnotherPortQueuedAsWorkOfThePollThatFlushesThem()
    {
        try (Arena arena = Arena.ofConfined(); PacketIoPort port = new PacketIoPort(new QueueOnlyIo(), 0x02_00_00_00_00_01L))
        {
            final MemorySegment memory = arena.allocate(64);
            final UnsafeBuffer frame = new UnsafeBuffer(memory.address(), 64);
            // a reply received on the other interface, queued here: it leaves at this port's next poll
            assertThat(port.send(frame, 0, 64)).isTrue();
            assertThat(port.send(frame, 0, 64)).isTrue();

            assertThat(port.poll((buffer, offset, length) -> length, 64)).isEqualTo(2);
            assertThat(port.poll((buffer, offset, length) -> length, 64)).isZero();
        }
    }
}
