package io.sluice.testbed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class TestbedSweepTest
{
    @Test
    void shouldSweepTestbedOfSigkilledOwnerButKeepLiveOnes(@TempDir final Path tmp) throws Exception
    {
        final String deadPrefix = TestPrefixes.of('k');
        final Path ready = tmp.resolve("ready");
        final List<String> command = new java.util.ArrayList<>(Testbed.javaCommand(TestbedOwnerMain.class.getName(),
            List.of(deadPrefix, ready.toString())));
        // the child must not write to Surefire's stdout channel
        final Process owner = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(tmp.resolve("owner.log").toFile()).start();
        try (Testbed live = Testbed.builder().prefix(TestPrefixes.of('l')).backends(1).servers(false).build())
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!Files.exists(ready) && owner.isAlive() && System.nanoTime() < deadline)
            {
                Thread.sleep(50);
            }
            assertThat(Files.exists(ready)).as("owner ready; log: %s", Files.readString(tmp.resolve("owner.log"))).isTrue();
            final String be1 = deadPrefix + "-be1";
            final List<Long> sleepers = Testbed.namespacePids(be1);
            assertThat(sleepers).isNotEmpty();

            owner.destroyForcibly();
            assertThat(owner.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(Testbed.existingNamespaces()).contains(be1);

            final List<String> swept = Testbed.sweep();

            assertThat(swept).contains(deadPrefix).doesNotContain(live.prefix());
            assertThat(Testbed.existingNamespaces()).noneMatch(ns -> ns.startsWith(deadPrefix + "-"));
            assertThat(Files.exists(TestbedState.fileFor(deadPrefix))).isFalse();
            for (final long pid : sleepers)
            {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            }
            assertThat(Testbed.existingNamespaces()).containsAll(live.namespaces());
            assertThat(Files.exists(TestbedState.fileFor(live.prefix()))).isTrue();
        }
        finally
        {
            owner.destroyForcibly();
            if (Files.exists(TestbedState.fileFor(deadPrefix)))
            {
                Testbed.down(deadPrefix);
            }
        }
    }

    @Test
    void shouldNeverSweepKeptTestbedAndRemoveItOnDown() throws Exception
    {
        final String prefix = TestPrefixes.of('d');
        final Testbed testbed = Testbed.builder().prefix(prefix).backends(1).servers(false).build();
        try
        {
            testbed.detach();
            final TestbedState kept = TestbedState.read(TestbedState.fileFor(prefix));
            assertThat(kept.keep()).isTrue();
            assertThat(Testbed.sweep()).doesNotContain(prefix);
            assertThat(Testbed.existingNamespaces()).containsAll(testbed.namespaces());
        }
        finally
        {
            assertThat(Testbed.down(prefix)).isTrue();
        }
        assertThat(Testbed.existingNamespaces()).noneMatch(ns -> ns.startsWith(prefix + "-"));
    }
}
