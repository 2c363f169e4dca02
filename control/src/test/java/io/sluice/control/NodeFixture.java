package io.sluice.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A network namespace of a test's own with a real {@code sluice node} child process in it, and ways to run commands
 * (curl, the sluice CLI as another process) inside the same namespace. Close removes the namespace even when the test
 * failed.
 */
public final class NodeFixture implements AutoCloseable
{
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    /**
     * What a command printed and how it ended.
     *
     * @param exitCode its exit code.
     * @param output   stdout and stderr together.
     */
    public record Result(int exitCode, String output)
    {
    }

    private final String netns;
    private final Path dir;
    private final List<Process> spawned = new ArrayList<>();
    private final List<String> peers = new ArrayList<>();
    private Process node;
    private Path log;

    public NodeFixture(final String prefix, final Path dir) throws Exception
    {
        this.netns = prefix + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        this.dir = dir;
        run("ip", "netns", "add", netns);
        run("ip", "-n", netns, "link", "set", "lo", "up");
    }

    public String netns()
    {
        return netns;
    }

    /** A namespace beside the node's (its name plus {@code suffix}, loopback up) for backends and clients; close() deletes it. */
    public String addPeerNetns(final String suffix) throws Exception
    {
        final String name = netns + suffix;
        run("ip", "netns", "add", name);
        peers.add(name);
        run("ip", "-n", name, "link", "set", "lo", "up");
        return name;
    }

    /** Starts {@code sluice node --config config [extra...]} in the namespace and waits for "ready". */
    public Process startNode(final Path config, final String... extra) throws IOException
    {
        log = dir.resolve("node-" + System.nanoTime() + ".log");
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        command.addAll(java("node", "--config", config.toString()));
        command.addAll(List.of(extra));
        // Never the inherited stdout: Surefire reads it as its own channel.
        node = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        awaitLog("ready");
        return node;
    }

    public Process node()
    {
        return node;
    }

    public String log() throws IOException
    {
        return log == null ? "" : Files.readString(log);
    }

    /** SIGTERM, then waits for the exit and returns the exit code. */
    public int stopNode() throws Exception
    {
        node.destroy();
        if (!node.waitFor(60, TimeUnit.SECONDS))
        {
            throw new AssertionError("node did not exit within 60 s of SIGTERM:\n" + log());
        }
        return node.exitValue();
    }

    public void awaitLog(final String text) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline)
        {
            if (Files.exists(log) && Files.readString(log).contains(text))
            {
                return;
            }
            if (!node.isAlive())
            {
                throw new AssertionError("node exited with " + node.exitValue() + ":\n" + Files.readString(log));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        throw new AssertionError("no '" + text + "' within 60 s:\n" + Files.readString(log));
    }

    /** Runs the sluice CLI as another process in the namespace. */
    public Result sluice(final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        command.addAll(java(args));
        return exec(command);
    }

    /** Starts a long-running Java main of the test class path in the node's namespace (a backend); close() ends it. */
    public Process spawnJava(final Path log, final String mainClass, final String... args) throws IOException
    {
        return spawnJavaIn(netns, log, mainClass, args);
    }

    /** {@link #spawnJava} in another namespace (one of {@link #addPeerNetns}). */
    public Process spawnJavaIn(final String namespace, final Path log, final String mainClass, final String... args)
        throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
            ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(List.of(System.getProperty("sluice.jvm.flags", "--enable-native-access=ALL-UNNAMED").split(" ")));
        command.addAll(List.of("-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        spawned.add(process);
        return process;
    }

    /** Runs any command in the namespace. */
    public Result inNetns(final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        command.addAll(List.of(args));
        return exec(command);
    }

    private static List<String> java(final String... args)
    {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(List.of(System.getProperty("sluice.jvm.flags", "--enable-native-access=ALL-UNNAMED").split(" ")));
        command.addAll(List.of("-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
            "io.sluice.control.cli.Main"));
        command.addAll(List.of(args));
        return command;
    }

    private static Result exec(final List<String> command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in 60 s");
        }
        return new Result(process.exitValue(), output);
    }

    public static String run(final String... command) throws Exception
    {
        final Result result = exec(List.of(command));
        if (result.exitCode() != 0)
        {
            throw new IOException(String.join(" ", command) + " failed: " + result.output());
        }
        return result.output();
    }

    @Override
    public void close() throws Exception
    {
        for (final Process process : spawned)
        {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (node != null && node.isAlive())
        {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        try
        {
            for (final String peer : peers)
            {
                run("ip", "netns", "del", peer);
            }
        }
        finally
        {
            run("ip", "netns", "del", netns);
        }
    }
}
