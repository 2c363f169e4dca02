package io.sluice.perf.cli;

import io.sluice.testbed.Commands;
import io.sluice.testbed.Testbed;
import io.sluice.testbed.TestbedState;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TestbedCommandTest
{
    @Test
    void shouldLeaveNothingAfterUpThenDown() throws Exception
    {
        final String prefix = "tb" + Long.toHexString(ProcessHandle.current().pid()) + "u";
        try
        {
            final StringWriter upOut = new StringWriter();
            final CommandLine up = new CommandLine(new TestbedCommand());
            up.setOut(new PrintWriter(upOut));
            assertThat(up.execute("up", "--prefix", prefix, "--backends", "1")).isZero();
            assertThat(upOut.toString()).contains("testbed " + prefix + " is up");
            final List<String> namespaces = TestbedState.read(TestbedState.fileFor(prefix)).namespaces();
            assertThat(Testbed.existingNamespaces()).containsAll(namespaces);
            final List<Long> serverPids = Testbed.namespacePids(prefix + "-be1");
            assertThat(serverPids).isNotEmpty();

            final StringWriter statusOut = new StringWriter();
            final CommandLine status = new CommandLine(new TestbedCommand());
            status.setOut(new PrintWriter(statusOut));
            assertThat(status.execute("status")).isZero();
            assertThat(statusOut.toString()).contains(prefix);

            final CommandLine down = new CommandLine(new TestbedCommand());
            down.setOut(new PrintWriter(new StringWriter()));
            assertThat(down.execute("down", prefix)).isZero();

            assertThat(Testbed.existingNamespaces()).noneMatch(ns -> ns.startsWith(prefix + "-"));
            assertThat(Commands.run("ip", "-o", "link").output()).doesNotContain(prefix);
            assertThat(Files.exists(TestbedState.fileFor(prefix))).isFalse();
            for (final long pid : serverPids)
            {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            }
        }
        finally
        {
            Testbed.down(prefix);
        }
    }
}
