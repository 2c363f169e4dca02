package io.sluice.control;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private static String run(final Path cwd, final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ":\n" + output).isZero();
        return output;
    }
}
