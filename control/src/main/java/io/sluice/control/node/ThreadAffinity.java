package io.sluice.control.node;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Pins the calling thread to one CPU with sched_setaffinity(2) (pid 0 = the calling thread), so a busy forwarder keeps
 * its caches and stops migrating. Failure is reported, never fatal: pinning is a tuning, not a requirement.
 */
public final class ThreadAffinity
{
    /** cpu_set_t of glibc: 1024 bits. */
    private static final long CPU_SET_BYTES = 128;
    private static final MethodHandle SCHED_SETAFFINITY;

    static
    {
        final Linker linker = Linker.nativeLinker();
        SCHED_SETAFFINITY = linker.downcallHandle(linker.defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    }

    private ThreadAffinity()
    {
    }

    /**
     * Pins the current thread.
     *
     * @param cpu 0..1023.
     * @return true when the kernel accepted it.
     */
    public static boolean pinCurrentThread(final int cpu)
    {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8)
        {
            return false;
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment set = arena.allocate(CPU_SET_BYTES);
            set.set(ValueLayout.JAVA_BYTE, cpu >> 3, (byte)(1 << (cpu & 7)));
            return (int)SCHED_SETAFFINITY.invokeExact(0, CPU_SET_BYTES, set) == 0;
        }
        catch (final Throwable ex)
        {
            return false;
        }
    }
}
