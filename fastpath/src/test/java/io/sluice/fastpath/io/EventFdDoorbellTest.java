package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.NeighbourCache;
import io.sluice.nativeio.Libc;

import static org.assertj.core.api.Assertions.assertThat;

class EventFdDoorbellTest
{
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;

    @Test
    void shouldWakeAForwarderAsleepInPollWhenAFrameIsHandedToIt() throws Exception
    {
        final int socket = quietSocket();
        final AtomicBoolean pending = new AtomicBoolean();
        try (EventFdDoorbell doorbell = new EventFdDoorbell(pending::get))
        {
            // the poll timeout is far longer than the test waits: only the doorbell can end this idle
            final PollingIdleStrategy idle = new PollingIdleStrategy(new int[] {socket}, 0, 0, 60_000, 0, doorbell);
            final CountDownLatch woke = new CountDownLatch(1);
            final Thread owner = Thread.ofPlatform().daemon().start(() ->
            {
                idle.idle(0);
                woke.countDown();
            });
            assertThat(woke.await(200, TimeUnit.MILLISECONDS)).as("asleep while nothing is handed to it").isFalse();
            pending.set(true);
            assertThat(doorbell.wake()).as("the sleeping owner is woken").isTrue();
            assertThat(woke.await(10, TimeUnit.SECONDS)).as("woken by the doorbell").isTrue();
            owner.join(10_000);
            assertThat(idle.polls()).isEqualTo(1);
            assertThat(doorbell.wake()).as("an awake owner costs no eventfd write").isFalse();
            assertThat(drain(doorbell.fd())).as("the sleeper cleared the eventfd").isNegative();
        }
        finally
        {
            Libc.close(socket);
        }
    }

    @Test
    void shouldWakeTheResolverAsleepOnItsDoorbellAloneWhenAForwarderAsksForANeighbour() throws Exception
    {
        final NeighbourCache neighbours = new NeighbourCache();
        try (EventFdDoorbell doorbell = new EventFdDoorbell(neighbours::hasRequests))
        {
            neighbours.wakeOnRequest(doorbell);
            // no socket, and a poll timeout far longer than the test waits: only a request can end this idle
            final PollingIdleStrategy idle = new PollingIdleStrategy(new int[0], 0, 0, 60_000, 0, doorbell);
            final CountDownLatch woke = new CountDownLatch(1);
            final Thread resolver = Thread.ofPlatform().daemon().start(() ->
            {
                idle.idle(0);
                woke.countDown();
            });
            assertThat(woke.await(200, TimeUnit.MILLISECONDS)).as("asleep while no request waits").isFalse();
            neighbours.requestResolution(0, 0xC612_000AL);
            assertThat(woke.await(10, TimeUnit.SECONDS)).as("woken by the request").isTrue();
            resolver.join(10_000);
            assertThat(idle.polls()).isEqualTo(1);
            assertThat(neighbours.drainRequests((type, buffer, index, length) -> { })).isEqualTo(1);

            neighbours.requestResolution(0, 0xC612_000BL);
            idle.idle(0);
            assertThat(idle.polls()).as("a request already waiting: no sleep").isEqualTo(1);
            assertThat(neighbours.hasRequests()).isTrue();
        }
    }

    @Test
    void shouldNotSleepWhileAHandedOffFrameWaits()
    {
        final int socket = quietSocket();
        try (EventFdDoorbell doorbell = new EventFdDoorbell(() -> true))
        {
            final PollingIdleStrategy idle = new PollingIdleStrategy(new int[] {socket}, 0, 0, 60_000, 0, doorbell);
            idle.idle(0);
            idle.idle(0);
            assertThat(idle.polls()).as("went back to work instead of polling").isZero();
            assertThat(doorbell.wake()).as("never armed").isFalse();
        }
        finally
        {
            Libc.close(socket);
        }
    }

    @Test
    void shouldWriteTheEventFdOncePerSleepHoweverManyFramesAreHandedOff() throws Exception
    {
        final AtomicBoolean pending = new AtomicBoolean();
        try (EventFdDoorbell doorbell = new EventFdDoorbell(pending::get))
        {
            assertThat(doorbell.arm()).isTrue();
            assertThat(doorbell.wake()).isTrue();
            assertThat(doorbell.wake()).isFalse();
            assertThat(doorbell.wake()).isFalse();
            assertThat(drain(doorbell.fd())).as("one write of 1").isEqualTo(1);
            doorbell.disarm(false);
        }
    }

    /** An AF_UNIX datagram socket nothing is sent to: it never becomes readable. */
    private static int quietSocket()
    {
        final int socket = Libc.socket(AF_UNIX, SOCK_DGRAM, 0);
        assertThat(socket).isNotNegative();
        return socket;
    }

    /** The eventfd's count (read clears it), or -errno (-EAGAIN when it was 0). */
    private static long drain(final int fd)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
            final long n = Libc.read(fd, value, Long.BYTES);
            return n < 0 ? n : value.get(ValueLayout.JAVA_LONG, 0);
        }
    }
}
