package io.sluice.keyserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.sluice.keyserver.cli.KeyServerCommand;
import io.sluice.keyserver.ipc.KeyServerDescriptor;

/**
 * A `keyserver` (or `keyserver import`) child JVM, as operators run it. Its output goes to a file, never to the
 * inherited stdout (Surefire's channel).
 */
public final class ChildKeyServer implements AutoCloseable
{
    private final Process process;
    private final Path log;

    private ChildKeyServer(final Process process, final Path log)
    {
        this.process = process;
        this.log = log;
    }

    public static ChildKeyServer start(final Path dir, final Path shm, final Path masterKey, final Path logDir) throws IOException
    {
        return start(dir, shm, masterKey, logDir, new String[0]);
    }

    /** As {@link #start(Path, Path, Path, Path)} with more `keyserver` options (e.g. --spin-us 20). */
    public static ChildKeyServer start(final Path dir, final Path shm, final Path masterKey, final Path logDir, final String... extra)
        throws IOException
    {
        final Path log = logDir.resolve("keyserver-" + System.nanoTime() + ".log");
        final List<String> args = new ArrayList<>(List.of("--dir", dir.toString(), "--shm", shm.toString(),
            "--master-key-file", masterKey.toString(), "--workers", "2"));
        args.addAll(List.of(extra));
        final Process p = new ProcessBuilder(command(args.toArray(String[]::new)))
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new ChildKeyServer(p, log);
    }

    /** Run `keyserver import ARGS` in a child JVM; returns exit code and output. */
    public static Result runImport(final Path logDir, final String... args) throws IOException, InterruptedException
    {
        final List<String> all = new ArrayList<>();
        all.add("import");
        all.addAll(List.of(args));
        final Path log = logDir.resolve("import-" + System.nanoTime() + ".log");
        final Process p = new ProcessBuilder(command(all.toArray(String[]::new))).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new IOException("import did not finish");
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    /** Exit code and combined output. */
    public record Result(int exitCode, String output)
    {
    }

    private static List<String> command(final String... args)
    {
        final List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // CONTRIBUTING.md: child JVMs take the flags from `sluice.jvm.flags`; the minimum the key server needs otherwise
        cmd.addAll(List.of(System.getProperty("sluice.jvm.flags", "--enable-native-access=ALL-UNNAMED "
            + "--sun-misc-unsafe-memory-access=allow --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED").trim().split("\\s+")));
        cmd.addAll(List.of("-Xmx128m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), KeyServerCommand.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Wait for the child to exit by itself. */
    public int awaitExit() throws InterruptedException, IOException
    {
        if (!process.waitFor(60, TimeUnit.SECONDS))
        {
            kill();
            throw new IOException("key server did not exit: " + log());
        }
        return process.exitValue();
    }

    public long pid()
    {
        return process.pid();
    }

    public boolean isAlive()
    {
        return process.isAlive();
    }

    /** Wait until the child has published its shared-memory file (or died). */
    public void awaitReady(final Path shm) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(log).contains("keyserver ready"))
        {
            if (!process.isAlive() || System.nanoTime() > deadline)
            {
                throw new IOException("key server did not start: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
        if (!Files.exists(shm.resolve(KeyServerDescriptor.FILE_NAME)))
        {
            throw new IOException("key server ready but no shm file");
        }
    }

    /** SIGKILL, as a crash would. */
    public void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    public String log() throws IOException
    {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException
    {
        if (process.isAlive())
        {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                kill();
            }
        }
    }
}
