package io.sluice.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one testbed run created, persisted as {@code /run/sluice-testbed/PREFIX.json} before the
 * first namespace exists, so that another process can remove it: {@code testbed down}, or the
 * sweep at the start of every run when the owner died without cleaning up (SIGKILL, OOM, power).
 * The owner is identified by pid and its start time in clock ticks (field 22 of /proc/PID/stat),
 * so a recycled pid is not mistaken for a live owner. {@code keep} marks a testbed left up on
 * purpose ({@code testbed up}, {@code demo --keep}): the sweep never touches those.
 *
 * <p>The file is small, flat JSON written by hand: native-bindings carries no JSON library.
 */
public record TestbedState(
    String prefix,
    long ownerPid,
    long ownerStartTicks,
    boolean keep,
    int backends,
    boolean ecmp,
    boolean management,
    List<String> namespaces,
    List<String> rootLinks,
    long createdEpochMs)
{
    /** Directory holding the state files; overridable for tests with -Dsluice.testbed.stateDir. */
    public static Path stateDir()
    {
        return Path.of(System.getProperty("sluice.testbed.stateDir", "/run/sluice-testbed"));
    }

    public static Path fileFor(final String prefix)
    {
        return stateDir().resolve(prefix + ".json");
    }

    /** This run's scratch directory (configs, logs, certificates). */
    public static Path runDir(final String prefix)
    {
        return stateDir().resolve(prefix);
    }

    public TestbedState withKeep(final boolean keepIt)
    {
        return new TestbedState(prefix, ownerPid, ownerStartTicks, keepIt, backends, ecmp, management, namespaces, rootLinks,
            createdEpochMs);
    }

    /** True when the owning process still exists and is the same process (same start time). */
    public boolean ownerAlive()
    {
        return ownerPid > 0 && startTicks(ownerPid) == ownerStartTicks;
    }

    public String toJson()
    {
        return "{\"prefix\":" + quote(prefix)
            + ",\"ownerPid\":" + ownerPid
            + ",\"ownerStartTicks\":" + ownerStartTicks
            + ",\"keep\":" + keep
            + ",\"backends\":" + backends
            + ",\"ecmp\":" + ecmp
            + ",\"management\":" + management
            + ",\"namespaces\":" + list(namespaces)
            + ",\"rootLinks\":" + list(rootLinks)
            + ",\"createdEpochMs\":" + createdEpochMs + "}\n";
    }

    public void write() throws IOException
    {
        Files.createDirectories(stateDir());
        final Path target = fileFor(prefix);
        final Path tmp = target.resolveSibling(prefix + ".json.tmp");
        Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static TestbedState read(final Path file) throws IOException
    {
        final String json = Files.readString(file, StandardCharsets.UTF_8);
        return new TestbedState(
            string(json, "prefix"),
            number(json, "ownerPid"),
            number(json, "ownerStartTicks"),
            Boolean.parseBoolean(raw(json, "keep")),
            (int)number(json, "backends"),
            Boolean.parseBoolean(raw(json, "ecmp")),
            Boolean.parseBoolean(raw(json, "management")),
            strings(json, "namespaces"),
            strings(json, "rootLinks"),
            number(json, "createdEpochMs"));
    }

    /** All state files present, unreadable ones skipped. */
    public static List<TestbedState> all()
    {
        final List<TestbedState> states = new ArrayList<>();
        if (!Files.isDirectory(stateDir()))
        {
            return states;
        }
        try (var files = Files.list(stateDir()))
        {
            for (final Path file : files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList())
            {
                try
                {
                    states.add(read(file));
                }
                catch (final IOException | RuntimeException ignored)
                {
                    // a half-written file of a run that died while creating it: nothing to act on
                }
            }
        }
        catch (final IOException ignored)
        {
            // no directory listing, no leftovers we can know about
        }
        return states;
    }

    /** Start time of {@code pid} in clock ticks since boot, or -1 when there is no such process. */
    public static long startTicks(final long pid)
    {
        try
        {
            final String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the command name (field 2) may hold spaces and parentheses: split after the last ')'
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[19]);
        }
        catch (final IOException | RuntimeException ex)
        {
            return -1;
        }
    }

    private static String quote(final String s)
    {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String list(final List<String> items)
    {
        final List<String> quoted = new ArrayList<>();
        for (final String item : items)
        {
            quoted.add(quote(item));
        }
        return "[" + String.join(",", quoted) + "]";
    }

    private static String raw(final String json, final String key)
    {
        final Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*([^,}\\]]+)").matcher(json);
        if (!m.find())
        {
            throw new IllegalArgumentException("missing " + key);
        }
        return m.group(1).strip();
    }

    private static long number(final String json, final String key)
    {
        return Long.parseLong(raw(json, key));
    }

    private static String string(final String json, final String key)
    {
        final Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!m.find())
        {
            throw new IllegalArgumentException("missing " + key);
        }
        return m.group(1);
    }

    private static List<String> strings(final String json, final String key)
    {
        final Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (!m.find())
        {
            throw new IllegalArgumentException("missing " + key);
        }
        final List<String> out = new ArrayList<>();
        final Matcher item = Pattern.compile("\"([^\"]*)\"").matcher(m.group(1));
        while (item.find())
        {
            out.add(item.group(1));
        }
        return out;
    }
}
