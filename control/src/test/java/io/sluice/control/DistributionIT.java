package io.sluice.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The tarball `mvn package` makes runs on its own: unpacked in an empty directory, away from the source tree. */
class DistributionIT
{
    @TempDir
    Path dir;

    @Test
    void shouldRunFromTheUnpackedTarballWithoutTheSourceTree() throws Exception
    {
        final Path home = unpack(dir);
        assertThat(home.resolve("bin/sluice")).isExecutable();
        assertThat(home.resolve("profiles/shared.properties")).exists();
        assertThat(home.resolve("examples/minimal.yaml")).exists();
        assertThat(home.resolve("lib/jvm.options")).content().contains("--enable-native-access=ALL-UNNAMED");

        assertThat(run(dir, home.resolve("bin/sluice").toString(), "--help")).contains("node", "stat", "bench", "keyserver");
        assertThat(run(dir, home.resolve("bin/sluice").toString(), "validate", "-f", home.resolve("examples/full.yaml").toString()))
            .contains("valid (1 load balancers, 3 listeners)");
    }

    /** Unpacks the tarball `mvn package` made into {@code dir}; returns the distribution's home (holding bin/sluice). */
    static Path unpack(final Path dir) throws Exception
    {
        final Path tarball = Path.of(System.getProperty("sluice.dist.tarball"));
        assertThat(tarball).exists();
        run(dir, "tar", "xzf", tarball.toString());
        try (var entries = Files.list(dir))
        {
            return entries.filter(p -> p.getFileName().toString().startsWith("sluice-")).findFirst().orElseThrow();
        }
    }

    /** What {@code bin/sluice bench ... --json --out F} left: the report and the harness's output (progress, errors). */
    record Bench(JsonNode report, String log)
    {
        /** The named subject of the named case, asserted present; the log is the message when it is not. */
        JsonNode subject(final String caseName, final String subjectName)
        {
            for (final JsonNode benchmark : report.path("benchmarks"))
            {
                for (final JsonNode benchCase : benchmark.path("cases"))
                {
                    for (final JsonNode subject : benchCase.path("subjects"))
                    {
                        if (benchCase.path("name").asText().equals(caseName) && subject.path("name").asText().equals(subjectName))
                        {
                            return subject;
                        }
                    }
                }
            }
            throw new AssertionError("no subject " + subjectName + " in case " + caseName + " of the report:\n" + log);
        }
    }

    /**
     * Runs {@code bin/sluice bench ARGS --json --out DIR/bench.json} of the distribution at {@code home} in {@code dir} (its
     * output to DIR/bench.log), at most {@code timeoutSeconds}, then SIGTERM (the harness's shutdown hook removes its
     * testbed). Asserts a zero exit, which means no subject failed, with the output as the message.
     */
    static Bench bench(final Path dir, final Path home, final long timeoutSeconds, final String... args) throws Exception
    {
        final Path out = dir.resolve("bench.json");
        final Path log = dir.resolve("bench.log");
        final List<String> command = new ArrayList<>(List.of(home.resolve("bin/sluice").toString(), "bench"));
        command.addAll(List.of(args));
        command.addAll(List.of("--json", "--out", out.toString()));
        final Process bench = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start();
        if (!bench.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        {
            bench.destroy();
            if (!bench.waitFor(60, TimeUnit.SECONDS))
            {
                bench.destroyForcibly().waitFor();
            }
            throw new AssertionError(String.join(" ", command) + " took over " + timeoutSeconds + " s:\n" + Files.readString(log));
        }
        assertThat(bench.exitValue()).as(String.join(" ", command) + ":\n" + Files.readString(log)).isZero();
        return new Bench(new ObjectMapper().readTree(out.toFile()), Files.readString(log));
    }

    private static String run(final Path cwd, final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ":\n" + output).isZero();
        return output;
    }
}
