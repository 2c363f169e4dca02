package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.sluice.nativeio.Libc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PollingIdleStrategyTest
{
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;

    @Test
    void shouldWakeFromPollAsSoonAsItsSocketBecomesReadable() throws Exception
    {
        try (Arena arena = Arena.ofConfined())
        {
            // An abstract AF_UNIX datagram socket: readable once a datagram arrives, like an AF_XDP socket with frames.
            final byte[] name = ("fq-poll-" + ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII);
            final MemorySegment address = arena.allocate(2 + 1 + name.length);
            address.set(ValueLayout.JAVA_SHORT, 0, (short)AF_UNIX);
            MemorySegment.copy(name, 0, address, ValueLayout.JAVA_BYTE, 3, name.length);
            final int receiver = Libc.socket(AF_UNIX, SOCK_DGRAM, 0);
            final int sender = Libc.socket(AF_UNIX, SOCK_DGRAM, 0);
            try
            {
                assertThat(receiver).isNotNegative();
                assertThat(Libc.bind(receiver, address, (int)address.byteSize())).isZero();
                // The timeout is far longer than the test waits: only readability can end this idle.
                final PollingIdleStrategy idle = new PollingIdleStrategy(new int[] {receiver}, 0, 0, 60_000);
                final CountDownLatch woke = new CountDownLatch(1);
                final Thread forwarder = Thread.ofPlatform().daemon().start(() ->
                {
                    idle.idle(0);
                    woke.countDown();
                });
                assertThat(woke.await(200, TimeUnit.MILLISECONDS)).as("asleep while nothing arrives").isFalse();
                final MemorySegment datagram = arena.allocate(1);
                assertThat(Libc.sendto(sender, datagram, 1, 0, address, (int)address.byteSize())).isEqualTo(1);
                assertThat(woke.await(10, TimeUnit.SECONDS)).as("woken by the datagram").isTrue();
                forwarder.join(10_000);
                assertThat(idle.polls()).isEqualTo(1);
            }
            finally
            {
                Libc.close(receiver);
                Libc.close(sender);
            }
        }
    }

    @Test
    void shouldSpinAndYieldBeforePolling()
    {
        final PollingIdleStrategy idle = new PollingIdleStrategy(new int[0], 3, 2, 1);
        for (int i = 0; i < 5; i++)
        {
            idle.idle(0);
        }
        assertThat(idle.polls()).isZero();
        idle.idle(1);
        idle.idle(0);
        assertThat(idle.polls()).isZero();
    }

    @Test
    void shouldSetTheNiceValueOfTheThreadThatIdlesOnly() throws Exception
    {
        final PollingIdleStrategy idle = new PollingIdleStrategy(new int[0], 1, 0, 1, 7);
        final int[] nice = new int[2];
        final Thread forwarder = Thread.ofPlatform().start(() ->
        {
            nice[0] = niceOfCurrentThread();
            idle.idle(1);
            nice[1] = niceOfCurrentThread();
        });
        forwarder.join(10_000);
        assertThat(idle.schedulingResult()).isZero();
        assertThat(nice[1]).isEqualTo(7).isNotEqualTo(nice[0]);
        assertThat(niceOfCurrentThread()).as("the caller's own thread is untouched").isEqualTo(nice[0]);
    }

    @Test
    void shouldGiveTheIdlingThreadItsTimeSliceAndKeepItsNice() throws Exception
    {
        final PollingIdleStrategy idle = new PollingIdleStrategy(new int[0], 1, 0, 1, 7).threadSliceNanos(200_000);
        final String[] slice = new String[2];
        final int[] nice = new int[1];
        final Thread forwarder = Thread.ofPlatform().start(() ->
        {
            slice[0] = sliceOfCurrentThread();
            idle.idle(1);
            slice[1] = sliceOfCurrentThread();
            nice[0] = niceOfCurrentThread();
        });
        forwarder.join(10_000);
        assumeTrue(slice[0] != null, "this kernel's /proc/thread-self/sched has no se.slice field (pre-EEVDF)");
        assertThat(idle.schedulingResult()).isZero();
        assertThat(slice[1]).isEqualTo("200000").isNotEqualTo(slice[0]);
        assertThat(nice[0]).as("the same sched_setattr set the nice").isEqualTo(7);
        assertThat(sliceOfCurrentThread()).as("the caller's own thread is untouched").isEqualTo(slice[0]);
    }

    @Test
    void shouldRefuseANiceOrASliceOutOfRange()
    {
        assertThatThrownBy(() -> new PollingIdleStrategy(new int[0], 1, 0, 1, -21)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PollingIdleStrategy(new int[0], 1, 0, 1, 0).threadSliceNanos(Libc.MIN_SLICE_NANOS - 1))
            .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PollingIdleStrategy(new int[0], 1, 0, 1, 0).threadSliceNanos(Libc.MAX_SLICE_NANOS + 1))
            .isInstanceOf(IllegalArgumentException.class);
        assertThat(new PollingIdleStrategy(new int[0], 1, 0, 1, 0).threadSliceNanos(0).schedulingResult())
            .as("nothing asked, nothing applied").isEqualTo(Integer.MIN_VALUE);
    }

    /** The se.slice line of /proc/thread-self/sched (kernel/sched/debug.c), or null when the kernel does not print it. */
    private static String sliceOfCurrentThread()
    {
        try
        {
            for (final String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/thread-self/sched")))
            {
                final int colon = line.indexOf(':');
                if (colon > 0 && "se.slice".equals(line.substring(0, colon).trim()))
                {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    /** Field 19 of /proc/thread-self/stat (after the parenthesised command name, which may hold spaces). */
    private static int niceOfCurrentThread()
    {
        try
        {
            final String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(fields[16]);
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
