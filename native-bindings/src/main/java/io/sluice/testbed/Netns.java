package io.sluice.testbed;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Runs code with the calling platform thread moved into a named network namespace (setns(2) on
 * /run/netns/NAME). setns with CLONE_NEWNET affects only the calling thread, and a socket belongs
 * to the namespace of the thread that created it, so probes and load generators can live in the
 * test JVM instead of a child process per namespace. Only fresh platform threads are moved:
 * a virtual thread would carry the namespace onto whichever carrier it mounts.
 */
public final class Netns
{
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final MethodHandle OPEN;
    private static final MethodHandle SETNS;
    private static final MethodHandle CLOSE;
    private static final MethodHandle SCHED_SETAFFINITY;
    private static final VarHandle ERRNO;
    private static final long ERRNO_SIZE;

    static
    {
        final Linker linker = Linker.nativeLinker();
        final Linker.Option errno = Linker.Option.captureCallState("errno");
        ERRNO = Linker.Option.captureStateLayout().varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
        ERRNO_SIZE = Linker.Option.captureStateLayout().byteSize();
        OPEN = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno);
        SETNS = linker.downcallHandle(linker.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
        CLOSE = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        SCHED_SETAFFINITY = linker.downcallHandle(linker.defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), errno);
    }

    private Netns()
    {
    }

    /** Moves the calling thread into namespace {@code name}; call it only on a thread you own and discard. */
    public static void enter(final String name)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(ERRNO_SIZE);
            final int fd = (int)OPEN.invokeExact(state, arena.allocateFrom("/run/netns/" + name), O_RDONLY_CLOEXEC);
            if (fd < 0)
            {
                throw new IllegalStateException("open /run/netns/" + name + ": errno " + (int)ERRNO.get(state, 0L));
            }
            try
            {
                final int rc = (int)SETNS.invokeExact(state, fd, CLONE_NEWNET);
                if (rc != 0)
                {
                    throw new IllegalStateException("setns " + name + ": errno " + (int)ERRNO.get(state, 0L));
                }
            }
            finally
            {
                final int ignored = (int)CLOSE.invokeExact(fd);
            }
        }
        catch (final RuntimeException | Error ex)
        {
            throw ex;
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * Pins the calling thread to one CPU (sched_setaffinity with pid 0). Returns false when the
     * kernel refused (e.g. the CPU does not exist); pinning is a measurement nicety, never required.
     */
    public static boolean pinCurrentThread(final int cpu)
    {
        if (cpu < 0 || cpu >= 64)
        {
            return false;
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(ERRNO_SIZE);
            final MemorySegment mask = arena.allocate(ValueLayout.JAVA_LONG);
            mask.set(ValueLayout.JAVA_LONG, 0, 1L << cpu);
            final int rc = (int)SCHED_SETAFFINITY.invokeExact(state, 0, 8L, mask);
            return rc == 0;
        }
        catch (final Throwable ex)
        {
            return false;
        }
    }

    /** Runs {@code task} on a new platform thread inside namespace {@code name} and returns its result. */
    public static <T> T call(final String name, final Callable<T> task)
    {
        final CompletableFuture<T> result = new CompletableFuture<>();
        final Thread thread = Thread.ofPlatform().name("netns-" + name).daemon(true).start(() ->
        {
            try
            {
                enter(name);
                result.complete(task.call());
            }
            catch (final Throwable ex)
            {
                result.completeExceptionally(ex);
            }
        });
        try
        {
            return result.get();
        }
        catch (final InterruptedException ex)
        {
            thread.interrupt();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
        catch (final ExecutionException ex)
        {
            final Throwable cause = ex.getCause();
            if (cause instanceof RuntimeException runtime)
            {
                throw runtime;
            }
            throw new IllegalStateException(cause.getMessage(), cause);
        }
    }

    /** Starts {@code task} on a new platform thread inside namespace {@code name}. */
    public static Thread start(final String name, final String threadName, final Runnable task)
    {
        return Thread.ofPlatform().name(threadName).daemon(true).start(() ->
        {
            enter(name);
            task.run();
        });
    }
}
