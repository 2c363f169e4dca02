package io.sluice.fastpath.io;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Network namespaces a test class creates (names {@code fp<pid>…}), deleted by {@link #deleteAll()}. */
final class Namespaces
{
    private static final List<String> CREATED = new ArrayList<>();

    private Namespaces()
    {
    }

    static synchronized void add(final String name)
    {
        run("ip", "netns", "add", name);
        CREATED.add(name);
        run("ip", "-n", name, "link", "set", "lo", "up");
    }

    static synchronized void deleteAll()
    {
        for (final String ns : CREATED)
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
        CREATED.clear();
    }

    static void run(final String... command)
    {
        try
        {
            final File output = File.createTempFile("fp-cmd", ".out");
            try
            {
                final Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output).start();
                if (!process.waitFor(30, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                    throw new IllegalStateException("timed out: " + String.join(" ", command));
                }
                if (process.exitValue() != 0)
                {
                    throw new IllegalStateException(String.join(" ", command) + " exited " + process.exitValue() + ": " +
                        java.nio.file.Files.readString(output.toPath()));
                }
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
}
