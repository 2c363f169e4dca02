package io.sluice.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ThreadSchedulingTest
{
    /** capget(2)/capset(2) (syscall_64.tbl), _LINUX_CAPABILITY_VERSION_3 and CAP_SYS_NICE (uapi/linux/capability.h). */
    private static final long SYS_CAPGET = 125;
    private static final long SYS_CAPSET = 126;
    private static final int CAPABILITY_VERSION_3 = 0x20080522;
    private static final int CAP_SYS_NICE = 23;

    @Test
    void shouldRefuseValuesOutOfRangeWhenBuilt()
    {
        assertThatThrownBy(() -> new ThreadScheduling(-21, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("nice");
        assertThatThrownBy(() -> new ThreadScheduling(20, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ThreadScheduling(0, Libc.MIN_SLICE_NANOS - 1)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("sliceNanos");
        assertThatThrownBy(() -> new ThreadScheduling(0, Libc.MAX_SLICE_NANOS + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new ThreadScheduling(0, 0).isDefault()).isTrue();
        assertThat(new ThreadScheduling(-20, Libc.MIN_SLICE_NANOS).isDefault()).isFalse();
        assertThat(new ThreadScheduling(19, Libc.MAX_SLICE_NANOS).isDefault()).isFalse();
    }

    @Test
    void shouldApplyBothToTheCallingThread() throws Exception
    {
        final ThreadScheduling scheduling = new ThreadScheduling(-3, 400_000);
        final int[] result = new int[1];
        final String[] seen = new String[2];
        LibcTest.onFreshThread(tid ->
        {
            result[0] = scheduling.applyToCurrentThread();
            seen[0] = LibcTest.schedField(tid, "se.slice");
            seen[1] = LibcTest.statNice(tid);
        });
        assertThat(result[0]).isZero();
        assertThat(seen[1]).isEqualTo("-3");
        assumeTrue(seen[0] != null, "this kernel's /proc/<pid>/task/<tid>/sched has no se.slice field");
        assertThat(seen[0]).isEqualTo("400000");
    }

    @Test
    void shouldWarnOnceNamingTheThreadAndErrnoWhenRefusedAndChangeNothing() throws Exception
    {
        final ThreadScheduling scheduling = new ThreadScheduling(-5, 400_000);
        final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        final Logger logger = Logger.getLogger(ThreadScheduling.class.getName());
        final Handler handler = new Handler()
        {
            @Override
            public void publish(final LogRecord record)
            {
                if (record.getLevel() == Level.WARNING)
                {
                    warnings.add(record);
                }
            }

            @Override
            public void flush()
            {
            }

            @Override
            public void close()
            {
            }
        };
        logger.addHandler(handler);
        final int[] results = new int[4];
        final String[] seen = new String[2];
        try
        {
            LibcTest.onFreshThread(tid ->
            {
                // a raised priority needs CAP_SYS_NICE; capabilities are per thread, so only this one loses it
                results[0] = dropCapSysNiceOfCallingThread();
                results[1] = scheduling.applyToCurrentThread();
                results[2] = scheduling.applyToCurrentThread();
                results[3] = Libc.currentThreadNice();
                seen[0] = LibcTest.schedField(tid, "se.slice");
                seen[1] = LibcTest.statNice(tid);
            });
        }
        finally
        {
            logger.removeHandler(handler);
        }
        assertThat(results[0]).as("capset").isZero();
        assertThat(results[1]).isEqualTo(-Errno.EPERM);
        assertThat(results[2]).as("the result says it every time").isEqualTo(-Errno.EPERM);
        assertThat(results[3]).isEqualTo(Integer.parseInt(seen[1])).isNotEqualTo(-5);
        assertThat(warnings).as("one warning per ThreadScheduling").hasSize(1);
        assertThat(warnings.getFirst().getMessage()).contains("sched-test").contains("EPERM").contains("-5").contains("400000");
        assumeTrue(seen[0] != null, "this kernel's /proc/<pid>/task/<tid>/sched has no se.slice field");
        assertThat(seen[0]).as("the slice was not set either").isNotEqualTo("400000");
    }

    /** capget then capset with CAP_SYS_NICE cleared from the effective set of the calling thread only. */
    private static int dropCapSysNiceOfCallingThread()
    {
        try (Arena arena = Arena.ofConfined())
        {
            // struct __user_cap_header_struct { u32 version; int pid; } and two struct __user_cap_data_struct
            // { u32 effective, permitted, inheritable; } (the low and high 32 capabilities)
            final MemorySegment header = arena.allocate(8, 4);
            final MemorySegment data = arena.allocate(24, 4);
            header.set(JAVA_INT, 0, CAPABILITY_VERSION_3);
            header.set(JAVA_INT, 4, 0);
            final int got = (int)Libc.syscall(SYS_CAPGET, header.address(), data.address(), 0, 0, 0, 0);
            if (got < 0)
            {
                return got;
            }
            data.set(JAVA_INT, 0, data.get(JAVA_INT, 0) & ~(1 << CAP_SYS_NICE));
            return (int)Libc.syscall(SYS_CAPSET, header.address(), data.address(), 0, 0, 0, 0);
        }
    }
}
