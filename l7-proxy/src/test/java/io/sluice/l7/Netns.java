package io.sluice.l7;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client network namespace joined to the test JVM's namespace by a veth pair, so real clients (curl, wrk,
 * slowhttptest) connect from their own address. Names carry the prefix l7 and the JVM's pid; the /30 comes from
 * 198.19.0.0/16 (inside the benchmarking range 198.18.0.0/15) and is derived from the pid too, so parallel runs never
 * collide; nothing is routed beyond the pair.
 */
final class Netns implements AutoCloseable
{
    final String name;
    final String hostSide;
    final String hostAddress;
    final String clientAddress;

    Netns() throws IOException, InterruptedException
    {
        final long pid = ProcessHandle.current().pid();
        name = "l7" + pid + "c";
        hostSide = "l7" + pid + "h";
        final String nsSide = "l7" + pid + "n";
        final int third = (int)((pid >> 6) & 0xff);
        final int fourth = (int)((pid & 0x3f) << 2);
        hostAddress = "198.19." + third + "." + (fourth + 1);
        clientAddress = "198.19." + third + "." + (fourth + 2);
        close();
        try
        {
            run("ip", "netns", "add", name);
            run("ip", "link", "add", hostSide, "type", "veth", "peer", "name", nsSide);
            run("ip", "link", "set", nsSide, "netns", name);
            run("ip", "addr", "add", hostAddress + "/30", "dev", hostSide);
            run("ip", "link", "set", hostSide, "up");
            run("ip", "netns", "exec", name, "ip", "addr", "add", clientAddress + "/30", "dev", nsSide);
            run("ip", "netns", "exec", name, "ip", "link", "set", nsSide, "up");
            run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up");
        }
        catch (final IOException | RuntimeException ex)
        {
            close();
            throw ex;
        }
    }

    /** Runs a command inside the namespace, bounded in time; returns its combined output. */
    String exec(final long timeoutSeconds, final String... command) throws IOException, InterruptedException
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        final Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        final byte[][] out = new byte[1][];
        final Thread reader = Thread.ofPlatform().daemon(true).start(() ->
        {
            try
            {
                out[0] = process.getInputStream().readAllBytes();
            }
            catch (final IOException ex)
            {
                out[0] = new byte[0];
            }
        });
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
        }
        reader.join(5_000);
        return out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8);
    }

    /** Starts a command inside the namespace, output discarded; the caller ends it by its PID. */
    Process start(final String... command) throws IOException
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void run(final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0)
        {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    @Override
    public void close() throws IOException
    {
        // deleting the namespace deletes its veth end and with it the pair
        new ProcessBuilder("ip", "netns", "del", name).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().onExit().join();
        new ProcessBuilder("ip", "link", "del", hostSide).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().onExit().join();
    }
}
