package io.sluice.perf.subjects;

import io.sluice.testbed.Testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * How the harness starts {@code sluice}: the distribution's {@code bin/sluice} (system property {@code sluice.home},
 * else the environment's {@code SLUICE_HOME} — set when the harness itself runs from {@code bin/sluice} — else the
 * newest {@code control/target/sluice-*}{@code /sluice-*} found from the working directory upwards), or, without a
 * distribution, the node's main class when it is on this JVM's class path (control's tests).
 */
public record Launcher(Path script, String mainClass)
{
    static final String MISSING = "no sluice distribution (build it with ./mvnw -DskipTests package, or name one with"
        + " -Dsluice.home=DIR) and " + Sluice.MAIN_CLASS + " is not on the class path";

    /** The command line running the sluice CLI with {@code args}. */
    public List<String> command(final List<String> args)
    {
        if (script != null)
        {
            final List<String> cmd = new ArrayList<>();
            cmd.add(script.toString());
            cmd.addAll(args);
            return cmd;
        }
        return Testbed.javaCommand(List.of("-Xmx512m", "-XX:+UseParallelGC"), mainClass, args);
    }

    public static Optional<Launcher> find()
    {
        final String property = System.getProperty(Sluice.HOME_PROPERTY);
        if (property != null && !property.isBlank())
        {
            return script(Path.of(property));
        }
        final String env = System.getenv("SLUICE_HOME");
        if (env != null && !env.isBlank() && script(Path.of(env)).isPresent())
        {
            return script(Path.of(env));
        }
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (int depth = 0; depth < 4 && dir != null; depth++, dir = dir.getParent())
        {
            final Optional<Launcher> built = newestBuilt(dir.resolve("control").resolve("target"));
            if (built.isPresent())
            {
                return built;
            }
        }
        try
        {
            Class.forName(Sluice.MAIN_CLASS, false, Launcher.class.getClassLoader());
            return Optional.of(new Launcher(null, Sluice.MAIN_CLASS));
        }
        catch (final ClassNotFoundException ex)
        {
            return Optional.empty();
        }
    }

    private static Optional<Launcher> script(final Path home)
    {
        final Path script = home.resolve("bin").resolve("sluice");
        return Files.isExecutable(script) ? Optional.of(new Launcher(script.toAbsolutePath(), null)) : Optional.empty();
    }

    private static Optional<Launcher> newestBuilt(final Path target)
    {
        if (!Files.isDirectory(target))
        {
            return Optional.empty();
        }
        try (Stream<Path> outer = Files.list(target))
        {
            return outer.filter(p -> p.getFileName().toString().startsWith("sluice-") && Files.isDirectory(p))
                .map(p -> p.resolve(p.getFileName().toString()))
                .filter(p -> Files.isExecutable(p.resolve("bin").resolve("sluice")))
                .max(Comparator.comparing(Launcher::modified))
                .flatMap(Launcher::script);
        }
        catch (final IOException ex)
        {
            return Optional.empty();
        }
    }

    private static long modified(final Path path)
    {
        try
        {
            return Files.getLastModifiedTime(path.resolve("lib")).toMillis();
        }
        catch (final IOException ex)
        {
            return 0;
        }
    }
}
