package io.sluice.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs short-lived system tools (iproute2, nft, ethtool, sysctl) and captures their output.
 * The testbed is off the hot path, so shelling out keeps it free of extra dependencies and
 * matches what an operator would type.
 */
public final class Commands
{
    private static final long DEFAULT_TIMEOUT_MS = 30_000;

    private Commands()
    {
    }

    /** Outcome of one command: exit status and the combined stdout + stderr. */
    public record Result(List<String> command, int exitCode, String output)
    {
        public boolean ok()
        {
            return exitCode == 0;
        }

        /** Returns this result, or throws with the command and its output when it failed. */
        public Result check()
        {
            if (exitCode != 0)
            {
                throw new IllegalStateException("command failed (exit " + exitCode + "): " + String.join(" ", command)
                    + (output.isBlank() ? "" : ": " + output.strip()));
            }
            return this;
        }
    }

    public static Result run(final String... command)
    {
        return run(List.of(command));
    }

    public static Result run(final List<String> command)
    {
        return run(command, DEFAULT_TIMEOUT_MS);
    }

    public static Result run(final List<String> command, final long timeoutMs)
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        try
        {
            final Process process = builder.start();
            final byte[][] out = new byte[1][];
            final Thread reader = Thread.ofVirtual().start(() -> out[0] = readAll(process.getInputStream()));
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                reader.join(1000);
                return new Result(List.copyOf(command), 124, "timed out after " + timeoutMs + " ms");
            }
            reader.join();
            return new Result(List.copyOf(command), process.exitValue(),
                new String(out[0] == null ? new byte[0] : out[0], StandardCharsets.UTF_8));
        }
        catch (final IOException ex)
        {
            return new Result(List.copyOf(command), 127, ex.toString());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return new Result(List.copyOf(command), 130, "interrupted");
        }
    }

    public static Result check(final String... command)
    {
        return run(command).check();
    }

    /** True when an executable of that name is on the PATH (or the standard sbin directories). */
    public static boolean available(final String tool)
    {
        final List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin", "/usr/local/sbin"));
        for (final String dir : dirs)
        {
            if (!dir.isEmpty() && java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, tool)))
            {
                return true;
            }
        }
        return false;
    }

    private static byte[] readAll(final InputStream in)
    {
        try (in)
        {
            return in.readAllBytes();
        }
        catch (final IOException ex)
        {
            return new byte[0];
        }
    }
}
