package io.sluice.nativeio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntConsumer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class LibcTest
{
    @Test
    void shouldReturnNegativeErrnoInsteadOfThrowing()
    {
        assertThat(Libc.close(-1)).isEqualTo(-Errno.EBADF);
        assertThat(Libc.socket(12345, Libc.SOCK_DGRAM, 0)).isEqualTo(-Errno.EAFNOSUPPORT);
    }

    @Test
    void shouldNameErrnoAndCarryCallAndHintInException()
    {
        assertThatThrownBy(() -> NativeException.check(Libc.close(-1), "close(-1)", "fd was never opened"))
            .isInstanceOfSatisfying(NativeException.class, ex ->
            {
                assertThat(ex.errno()).isEqualTo(Errno.EBADF);
                assertThat(ex.errnoName()).isEqualTo("EBADF");
                assertThat(ex.call()).isEqualTo("close(-1)");
                assertThat(ex.getMessage()).contains("close(-1) failed: EBADF (9); fd was never opened");
            });
        assertThat(Errno.name(95)).isEqualTo("EOPNOTSUPP");
        assertThat(Errno.name(-1)).isEqualTo("EPERM");
        assertThat(Errno.name(4000)).isEqualTo("errno 4000");
    }

    @Test
    void shouldCallSyscallDirectly()
    {
        assertThat(Libc.gettid()).isPositive();
        assertThat(Libc.possibleCpus()).isPositive();
        assertThat(Libc.ifNameToIndex("lo")).isEqualTo(1);
        assertThat(Libc.ifNameToIndex("nb-no-such")).isNegative();
    }

    @Test
    void shouldSetTheNiceAndTheTimeSliceOfTheCallingThreadInOneCall() throws Exception
    {
        final String[] before = new String[2];
        final String[] after = new String[2];
        final int[] result = new int[1];
        final int[] callerTid = {Libc.gettid()};
        final String callerSlice = schedField(callerTid[0], "se.slice");
        final String callerNice = statNice(callerTid[0]);
        onFreshThread(tid ->
        {
            before[0] = schedField(tid, "se.slice");
            before[1] = statNice(tid);
            result[0] = Libc.setCurrentThreadScheduling(5, 300_000);
            after[0] = schedField(tid, "se.slice");
            after[1] = statNice(tid);
        });
        // se.slice is printed by kernel/sched/debug.c since EEVDF (6.6); without it the request cannot be observed
        assumeTrue(before[0] != null, "this kernel's /proc/<pid>/task/<tid>/sched has no se.slice field");
        assertThat(before).as("a fresh thread: the kernel's slice, the caller's nice").containsExactly(callerSlice, callerNice);
        assertThat(result[0]).isZero();
        assertThat(after).as("both from one sched_setattr").containsExactly("300000", "5");
        assertThat(schedField(callerTid[0], "se.slice")).as("the caller is untouched").isEqualTo(callerSlice);
        assertThat(statNice(callerTid[0])).isEqualTo(callerNice);
    }

    @Test
    void shouldKeepTheNiceWhenOnlyASliceIsAskedAndTheDefaultSliceWhenOnlyANice() throws Exception
    {
        final String[][] seen = new String[4][];
        final int[] results = new int[4];
        onFreshThread(tid ->
        {
            seen[0] = new String[] {schedField(tid, "se.slice"), statNice(tid)};
            results[0] = Libc.setCurrentThreadScheduling(5, 0);
            seen[1] = new String[] {schedField(tid, "se.slice"), statNice(tid)};
            results[1] = Libc.setCurrentThreadScheduling(0, 300_000);
            seen[2] = new String[] {schedField(tid, "se.slice"), statNice(tid)};
            results[2] = Libc.currentThreadNice();
            results[3] = Libc.setCurrentThreadScheduling(5, 0);
            seen[3] = new String[] {schedField(tid, "se.slice"), statNice(tid)};
        });
        assumeTrue(seen[0][0] != null, "this kernel's /proc/<pid>/task/<tid>/sched has no se.slice field");
        final String kernelSlice = seen[0][0];
        assertThat(results[0]).isZero();
        assertThat(seen[1]).as("nice only: the kernel's slice").containsExactly(kernelSlice, "5");
        assertThat(results[1]).isZero();
        assertThat(seen[2]).as("slice only: nice 5 survives sched_setattr").containsExactly("300000", "5");
        assertThat(results[2]).isEqualTo(5);
        assertThat(results[3]).isZero();
        assertThat(seen[3]).as("nice only again: back to the kernel's slice").containsExactly(kernelSlice, "5");
    }

    @Test
    void shouldRefuseAValueOutOfRangeAndChangeNothing() throws Exception
    {
        final int[] results = new int[6];
        final String[] seen = new String[2];
        onFreshThread(tid ->
        {
            results[0] = Libc.setCurrentThreadScheduling(4, 200_000);
            results[1] = Libc.setCurrentThreadScheduling(3, 99_999);
            results[2] = Libc.setCurrentThreadScheduling(3, 100_000_001);
            results[3] = Libc.setCurrentThreadScheduling(20, 0);
            results[4] = Libc.setCurrentThreadScheduling(-21, 300_000);
            // nothing asked: no sched_setattr, which with sched_runtime 0 would have put the kernel's slice back
            results[5] = Libc.setCurrentThreadScheduling(0, 0);
            seen[0] = schedField(tid, "se.slice");
            seen[1] = statNice(tid);
        });
        assertThat(results).containsExactly(0, -Errno.EINVAL, -Errno.EINVAL, -Errno.EINVAL, -Errno.EINVAL, 0);
        assumeTrue(seen[0] != null, "this kernel's /proc/<pid>/task/<tid>/sched has no se.slice field");
        assertThat(seen).as("what the first call set").containsExactly("200000", "4");
    }

    @Test
    void shouldReadTheCallingThreadsNice() throws Exception
    {
        final int[] nice = new int[3];
        onFreshThread(tid ->
        {
            nice[0] = Libc.currentThreadNice() - Integer.parseInt(statNice(tid));
            nice[1] = Libc.setCurrentThreadScheduling(3, 0);
            nice[2] = Libc.currentThreadNice();
        });
        assertThat(nice).containsExactly(0, 0, 3);
    }

    /** Runs {@code body} with its kernel thread id on a new platform thread (the caller's nice, the kernel's slice). */
    static void onFreshThread(final IntConsumer body) throws InterruptedException
    {
        final Throwable[] failure = new Throwable[1];
        final Thread thread = Thread.ofPlatform().name("sched-test").start(() ->
        {
            try
            {
                body.accept(Libc.gettid());
            }
            catch (final Throwable t)
            {
                failure[0] = t;
            }
        });
        thread.join(10_000);
        assertThat(thread.isAlive()).isFalse();
        assertThat(failure[0]).isNull();
    }

    /** The nice value, field 19 of /proc/self/task/TID/stat (after the parenthesised command name, which may hold spaces). */
    static String statNice(final int tid)
    {
        try
        {
            final String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            // the fields from 3 on follow ") ": field 19 is the 17th of them
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16];
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** A "name : value" line of /proc/self/task/TID/sched, or null when the kernel does not print it. */
    static String schedField(final int tid, final String name)
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/sched")))
            {
                final int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(name))
                {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
