package io.sluice.keyserver;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A network namespace of the test's own ({@code ks<pid>}, loopback up, 198.18.0.1/32 on lo), for servers bound from
 * a thread moved into it with setns(2) (a socket belongs to the namespace of the thread that created it) and clients
 * run with {@code ip netns exec}.
 */
public final class TestNetns implements AutoCloseable
{
    public static final String ADDRESS_V4 = "198.18.0.1";
    /** sched.h: CLONE_NEWNET. */
    private static final int CLONE_NEWNET = 0x40000000;
    private static final MethodHandle OPEN;
    private static final MethodHandle SETNS;
    private static final MethodHandle CLOSE;

    static
    {
        final Linker linker = Linker.nativeLinker();
        OPEN = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.captureCallState("errno"));
        SETNS = linker.downcallHandle(linker.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        CLOSE = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private final String name;

    private TestNetns(final String name)
    {
        this.name = name;
    }

    public static TestNetns create(final String suffix) throws IOException
    {
        final String name = "ks" + ProcessHandle.current().pid() + suffix;
        final TestNetns ns = new TestNetns(name);
        run(List.of("ip", "netns", "add", name));
        try
        {
            run(List.of("ip", "-n", name, "link", "set", "lo", "up"));
            run(List.of("ip", "-n", name, "addr", "add", ADDRESS_V4 + "/32", "dev", "lo"));
        }
        catch (final IOException ex)
        {
            ns.close();
            throw ex;
        }
        return ns;
    }

    public String name()
    {
        return name;
    }

    /** Prefix a command with {@code ip netns exec NAME}. */
    public List<String> exec(final List<String> command)
    {
        final List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", name));
        all.addAll(command);
        return all;
    }

    /**
     * Run a task on a new thread that first joins this namespace; sockets it creates live there.
     */
    public <T> T call(final Callable<T> task) throws Exception
    {
        final AtomicReference<T> result = new AtomicReference<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread t = new Thread(() ->
        {
            try (Arena arena = Arena.ofConfined())
            {
                final MemorySegment path = arena.allocateFrom("/var/run/netns/" + name, StandardCharsets.US_ASCII);
                final MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
                final int fd = (int)OPEN.invokeExact(state, path, 0);
                if (fd < 0)
                {
                    throw new IOException("open netns " + name + " failed");
                }
                try
                {
                    if ((int)SETNS.invokeExact(fd, CLONE_NEWNET) != 0)
                    {
                        throw new IOException("setns " + name + " failed");
                    }
                }
                finally
                {
                    final int ignored = (int)CLOSE.invokeExact(fd);
                }
                result.set(task.call());
            }
            catch (final Throwable ex)
            {
                failure.set(ex);
            }
        }, "netns-" + name);
        t.start();
        t.join(TimeUnit.SECONDS.toMillis(30));
        if (failure.get() != null)
        {
            throw new IllegalStateException("task in netns " + name + " failed", failure.get());
        }
        return result.get();
    }

    @Override
    public void close() throws IOException
    {
        run(List.of("ip", "netns", "del", name));
    }

    private static void run(final List<String> cmd) throws IOException
    {
        final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try
        {
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0)
            {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException(ex);
        }
    }
}
