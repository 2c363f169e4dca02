package io.sluice.nativeio;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Namespaces and veth pairs for one test class, all named {@code nb<pid>...} (or another tag) so parallel runs never
 * collide, created with iproute2 and deleted in {@link #close()} (deleting a namespace deletes its veths).
 */
public final class TestNetwork implements AutoCloseable
{
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final List<String> namespaces = new ArrayList<>();
    private final String prefix;

    public TestNetwork()
    {
        this("nb");
    }

    /** A network whose names start with {@code tag} (a test area's own prefix) + pid + a sequence letter. */
    public TestNetwork(final String tag)
    {
        prefix = tag + ProcessHandle.current().pid() + (char)('a' + SEQUENCE.getAndIncrement() % 26);
    }

    /** @return a name unique to this network, ≤ 15 characters (usable for interfaces). */
    public String name(final String suffix)
    {
        final String name = prefix + suffix;
        if (name.length() > 15)
        {
            throw new IllegalArgumentException("name too long: " + name);
        }
        return name;
    }

    /** Create namespace {@code prefix+suffix} with lo up; returns its name. */
    public String namespace(final String suffix)
    {
        final String ns = prefix + suffix;
        run("ip", "netns", "add", ns);
        namespaces.add(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    /** Create a veth pair {@code ifA} in {@code nsA} and {@code ifB} in {@code nsB}, both up. */
    public void veth(final String nsA, final String ifA, final String nsB, final String ifB)
    {
        run("ip", "-n", nsA, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", nsB);
        run("ip", "-n", nsA, "link", "set", ifA, "up");
        run("ip", "-n", nsB, "link", "set", ifB, "up");
    }

    /** Run {@code ip -n ns args...}. */
    public void ip(final String ns, final String... args)
    {
        final String[] command = new String[args.length + 3];
        command[0] = "ip";
        command[1] = "-n";
        command[2] = ns;
        System.arraycopy(args, 0, command, 3, args.length);
        run(command);
    }

    /** Run a command, failing with its output when it exits non-zero. */
    public static String run(final String... command)
    {
        try
        {
            final File output = File.createTempFile("nb-cmd", ".out");
            try
            {
                final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output).start();
                if (!process.waitFor(30, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                    throw new IllegalStateException("timed out: " + String.join(" ", command));
                }
                final String text = java.nio.file.Files.readString(output.toPath());
                if (process.exitValue() != 0)
                {
                    throw new IllegalStateException(String.join(" ", command) + " exited " + process.exitValue() + ": " + text);
                }
                return text;
            }
            finally
            {
                output.delete();
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    @Override
    public void close()
    {
        for (final String ns : namespaces)
        {
            try
            {
                run("ip", "netns", "delete", ns);
            }
            catch (final RuntimeException ignored)
            {
                // best effort: keep deleting the others
            }
        }
        namespaces.clear();
    }
}
