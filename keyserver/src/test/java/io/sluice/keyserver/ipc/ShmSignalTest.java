package io.sluice.keyserver.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.sluice.nativeio.Libc;

/**
 * The futex event count over two separate mappings of one file, as two processes see it (a shared futex is keyed by
 * inode and offset, so two mappings in one process behave like two processes; a private one would never wake).
 */
class ShmSignalTest
{
    private static final int PING = 0;
    private static final int PONG = 128;
    private static final int TURN = 256;
    /** Far beyond the test's deadline: a lost wake-up stalls the ping-pong instead of being hidden by a timeout. */
    private static final long LONG_WAIT_NS = TimeUnit.SECONDS.toNanos(30);

    @TempDir
    Path tmp;
    MappedByteBuffer first;
    MappedByteBuffer second;

    @BeforeEach
    void map() throws IOException
    {
        final Path file = tmp.resolve("signal");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            ch.truncate(4096);
            first = ch.map(FileChannel.MapMode.READ_WRITE, 0, 4096);
            second = ch.map(FileChannel.MapMode.READ_WRITE, 0, 4096);
        }
    }

    @AfterEach
    void unmap()
    {
        IoUtil.unmap(first);
        IoUtil.unmap(second);
    }

    @Test
    void shouldReturnFromAWaitWhenItsTimeoutPassesWithoutASignal()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(first), PING);
        final MemorySegment timespec = Arena.ofAuto().allocate(Futex.TIMESPEC_LENGTH, 8);

        final boolean ready = signal.await(() -> false, timespec, TimeUnit.MILLISECONDS.toNanos(20));

        assertThat(ready).isFalse();
        assertThat(signal.sleepers()).isZero();
        assertThat(signal.sequence()).isZero();
    }

    @Test
    void shouldNotSleepWhenWorkIsAlreadyThere()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(first), PING);

        assertThat(signal.await(() -> true, Arena.ofAuto().allocate(Futex.TIMESPEC_LENGTH, 8), LONG_WAIT_NS)).isTrue();
        assertThat(signal.sleepers()).isZero();
    }

    @Test
    void shouldSkipTheWakeSyscallWhenNobodySleeps()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(first), PING);

        assertThat(signal.signal()).isFalse();
        assertThat(new ShmSignal(new UnsafeBuffer(second), PING).sequence()).isEqualTo(1);
    }

    @Test
    void shouldWarmUpTheBindingsWithoutBlocking()
    {
        // the wait in it finds its word changed and returns at once, twice
        assertThatCode(Futex::warmUp).doesNotThrowAnyException();
        assertThatCode(Futex::warmUp).doesNotThrowAnyException();
    }

    @Test
    void shouldRefuseAWordOnTheJavaHeap()
    {
        assertThatThrownBy(() -> new ShmSignal(new UnsafeBuffer(new byte[64]), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldWakeASleeperThroughAnotherMapping() throws Exception
    {
        final ShmSignal waiterSide = new ShmSignal(new UnsafeBuffer(first), PING);
        final ShmSignal wakerSide = new ShmSignal(new UnsafeBuffer(second), PING);
        final UnsafeBuffer flag = new UnsafeBuffer(second);
        final ExecutorService pool = Executors.newSingleThreadExecutor();
        try
        {
            final MemorySegment timespec = Arena.ofAuto().allocate(Futex.TIMESPEC_LENGTH, 8);
            final UnsafeBuffer seen = new UnsafeBuffer(first);
            final Future<Boolean> waiter = pool.submit(() -> waiterSide.await(() -> seen.getIntVolatile(TURN) == 1, timespec,
                LONG_WAIT_NS));
            awaitCondition(() -> wakerSide.sleepers() == 1);

            flag.putIntVolatile(TURN, 1);
            final boolean woke = wakerSide.signal();

            // false: it slept (and was woken, long before its 30 s timeout)
            assertThat(waiter.get(10, TimeUnit.SECONDS)).isFalse();
            assertThat(woke).isTrue();
            assertThat(wakerSide.sleepers()).isZero();
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldNotWakeTheSleeperForRecordsAPollingConsumerReadsAndWakeItAgainOnceThatOneStops() throws Exception
    {
        final ShmSignal waiterSide = new ShmSignal(new UnsafeBuffer(first), PING);
        final ShmSignal pollerSide = new ShmSignal(new UnsafeBuffer(second), PING);
        final UnsafeBuffer flag = new UnsafeBuffer(second);
        final ExecutorService pool = Executors.newSingleThreadExecutor();
        try
        {
            final MemorySegment timespec = Arena.ofAuto().allocate(Futex.TIMESPEC_LENGTH, 8);
            final UnsafeBuffer seen = new UnsafeBuffer(first);
            final AtomicInteger waiterTid = new AtomicInteger();
            final Future<Long> waiter = pool.submit(() ->
            {
                waiterTid.set(Libc.gettid());
                return waiterSide.awaitResult(() -> seen.getIntVolatile(TURN) == 1, timespec, LONG_WAIT_NS);
            });
            // asleep in the kernel, not only announced: a sequence bump between the two would end the wait with EAGAIN
            awaitCondition(() -> pollerSide.sleepers() == 1 && asleep(waiterTid.get()));

            pollerSide.beginPolling();
            assertThat(pollerSide.signal()).as("the polling consumer covers the sleeper: no wake syscall").isFalse();
            pollerSide.endPolling();
            flag.putIntVolatile(TURN, 1);
            assertThat(pollerSide.signal()).as("back in the count: the sleeper is woken").isTrue();

            assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo(Futex.WOKEN);
            assertThat(pollerSide.sleepers()).isZero();
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldLoseNoWakeUpInAPingPongWhereBothSidesSleepEveryTime() throws Exception
    {
        final int rounds = 3000;
        final UnsafeBuffer a = new UnsafeBuffer(first);
        final UnsafeBuffer b = new UnsafeBuffer(second);
        final ShmSignal pingA = new ShmSignal(a, PING);
        final ShmSignal pongA = new ShmSignal(a, PONG);
        final ShmSignal pingB = new ShmSignal(b, PING);
        final ShmSignal pongB = new ShmSignal(b, PONG);
        final AtomicInteger slept = new AtomicInteger();
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try
        {
            final Future<?> ponger = pool.submit(() ->
            {
                final MemorySegment timespec = Arena.ofAuto().allocate(Futex.TIMESPEC_LENGTH, 8);
                for (int i = 0; i < rounds; i++)
                {
                    final int expected = 2 * i + 1;
                    while (b.getIntVolatile(TURN) != expected)
                    {
                        if (!pingB.await(() -> b.getIntVolatile(TURN) == expected, timespec, LONG_WAIT_NS))
                        {
                            slept.incrementAndGet();
                        }
                    }
                    b.putIntVolatile(TURN, expected + 1);
                    pongB.signal();
                }
            });
            final Future<?> pinger = pool.submit(() ->
            {
                final MemorySegment timespec = Arena.ofAuto().allocate(Futex.TIMESPEC_LENGTH, 8);
                for (int i = 0; i < rounds; i++)
                {
                    final int answer = 2 * i + 2;
                    a.putIntVolatile(TURN, 2 * i + 1);
                    pingA.signal();
                    while (a.getIntVolatile(TURN) != answer)
                    {
                        if (!pongA.await(() -> a.getIntVolatile(TURN) == answer, timespec, LONG_WAIT_NS))
                        {
                            slept.incrementAndGet();
                        }
                    }
                }
            });
            // every wait of either side is 30 s long: one lost wake-up and this deadline passes
            pinger.get(25, TimeUnit.SECONDS);
            ponger.get(5, TimeUnit.SECONDS);
            assertThat(a.getIntVolatile(TURN)).isEqualTo(2 * rounds);
            assertThat(slept.get()).as("sleeps that a signal ended").isPositive();
            assertThat(pingA.sleepers()).isZero();
            assertThat(pongA.sleepers()).isZero();
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    private static boolean asleep(final int tid)
    {
        try
        {
            return FutexProbe.asleepOnFutex(tid);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private static void awaitCondition(final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(deadline);
            Thread.sleep(1);
        }
    }
}
