package io.sluice.nativeio;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Network namespaces by name ({@code ip netns} keeps them as bind mounts under /var/run/netns).
 * <p>
 * setns(2) moves only the calling OS thread. Sockets, netlink requests, AF_XDP binds and BPF links made by that
 * thread belong to the namespace for their whole life and can be used from any thread afterwards, so the usual
 * pattern is {@link #call(String, Callable)}: run the setup on a fresh platform thread inside the namespace and hand
 * the fds back.
 */
public final class NetNs
{
    public static final String RUN_DIR = "/var/run/netns/";

    private NetNs()
    {
    }

    /** @return an identity of the calling thread's network namespace ("net:[inode]"), for comparing namespaces. */
    public static String current()
    {
        try
        {
            return java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self/ns/net")).toString();
        }
        catch (final java.io.IOException ex)
        {
            return "unknown";
        }
    }

    /** Move the calling OS thread into namespace {@code name}; there is no way back for the thread. */
    public static void enter(final String name)
    {
        final int fd = NativeException.check(Libc.open(RUN_DIR + name, Libc.O_RDONLY | Libc.O_CLOEXEC),
            "open(" + RUN_DIR + name + ")", "is there a namespace '" + name + "' (ip netns list)?");
        try
        {
            NativeException.check(Libc.setns(fd, Libc.CLONE_NEWNET), "setns(" + name + ")", "needs CAP_SYS_ADMIN");
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /** Run {@code task} on a new platform thread inside namespace {@code name} and return its result. */
    public static <T> T call(final String name, final Callable<T> task)
    {
        final FutureTask<T> future = new FutureTask<>(() ->
        {
            enter(name);
            return task.call();
        });
        final Thread thread = Thread.ofPlatform().name("netns-" + name).daemon(true).start(future);
        try
        {
            final T result = future.get();
            thread.join();
            return result;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
        catch (final ExecutionException ex)
        {
            final Throwable cause = ex.getCause();
            if (cause instanceof RuntimeException re)
            {
                throw re;
            }
            if (cause instanceof Error e)
            {
                throw e;
            }
            throw new IllegalStateException(cause);
        }
    }

    /** Run {@code task} on a new platform thread inside namespace {@code name}. */
    public static void run(final String name, final Runnable task)
    {
        call(name, () ->
        {
            task.run();
            return null;
        });
    }
}
