package io.sluice.nativeio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
    void shouldSetTheCallingThreadsTimeSliceAndKeepItsNice() throws Exception
    {
        final String[] before = new String[2];
        final String[] after = new String[2];
        final String[] reset = new String[2];
        final int[] results = new int[4];
        final Thread thread = new Thread(() ->
        {
            final int tid = Libc.gettid();
            results[0] = Libc.setCurrentThreadNice(5);
            before[0] = schedField(tid, "se.slice");
            before[1] = schedField(tid, "prio");
            results[1] = Libc.setCurrentThreadSlice(300_000);
            after[0] = schedField(tid, "se.slice");
            after[1] = schedField(tid, "prio");
            results[2] = Libc.currentThreadNice();
            results[3] = Libc.setCurrentThreadSlice(0);
            reset[0] = schedField(tid, "se.slice");
            reset[1] = schedField(tid, "prio");
        }, "slice-test");
        thread.start();
        thread.join();
        // se.slice is printed by kernel/sched/debug.c since EEVDF (6.6); without it the request cannot be observed
        assumeTrue(before[0] != null, "this kernel's /proc/<pid>/task/<tid>/sched has no se.slice field");
        assertThat(results[0]).isZero();
        assertThat(results[1]).isZero();
        assertThat(after[0]).as("the slice asked for").isEqualTo("300000");
        assertThat(after[1]).as("nice 5 (prio 125) survives sched_setattr").isEqualTo("125").isEqualTo(before[1]);
        assertThat(results[2]).isEqualTo(5);
        assertThat(results[3]).isZero();
        assertThat(reset[0]).as("0 restores the default slice").isEqualTo(before[0]);
        assertThat(reset[1]).isEqualTo("125");
    }

    @Test
    void shouldRefuseASliceOutsideTheKernelsBounds()
    {
        assertThat(Libc.setCurrentThreadSlice(99_999)).isEqualTo(-Errno.EINVAL);
        assertThat(Libc.setCurrentThreadSlice(100_000_001)).isEqualTo(-Errno.EINVAL);
    }

    @Test
    void shouldReadTheCallingThreadsNice() throws Exception
    {
        final int[] nice = new int[2];
        final Thread thread = new Thread(() ->
        {
            nice[0] = Libc.setCurrentThreadNice(3);
            nice[1] = Libc.currentThreadNice();
        });
        thread.start();
        thread.join();
        assertThat(nice).containsExactly(0, 3);
    }

    /** A "name : value" line of /proc/self/task/TID/sched, or null when the kernel does not print it. */
    private static String schedField(final int tid, final String name)
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
