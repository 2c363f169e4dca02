package io.sluice.control.demo;

import io.sluice.testbed.Testbed;
import io.sluice.testbed.TestbedState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole demo as a user runs it, shortened: a child JVM running {@code sluice demo --duration 8}, its summary read
 * back, then a look for anything it left behind (namespaces, state files, processes).
 */
class DemoTest
{
    private static final Pattern RESULT = Pattern.compile(
        "^RESULT (tcp|udp|http|https) (PASS|FAIL) before ok=(\\d+) failed=(\\d+) after ok=(\\d+) failed=(\\d+) recovery=(\\S+) (.*)$",
        Pattern.MULTILINE);

    @TempDir
    Path dir;

    @Test
    void shouldFailANodeOverSummariseEveryProtocolAndLeaveNothingBehind() throws Exception
    {
        final String prefix = "dm" + ProcessHandle.current().pid();
        final Path log = dir.resolve("demo.log");
        final List<String> command = Testbed.javaCommand(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), "io.sluice.control.cli.Main",
            List.of("demo", "--duration", "8", "--rate", "50", "--prefix", prefix));
        // never the inherited stdout: Surefire reads it as its own channel
        final Process demo = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        final String output;
        try
        {
            final boolean finished = demo.waitFor(240, TimeUnit.SECONDS);
            output = Files.readString(log);
            assertThat(finished).as("demo finished within 240 s:\n%s", output).isTrue();
        }
        finally
        {
            if (demo.isAlive())
            {
                demo.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Testbed.down(prefix);
        }

        assertThat(output).contains("== sluice demo summary ==").contains("lb1's node SIGKILLed")
            .contains("the router withdrew lb1").contains("sluice demo: clean");
        final List<String> protocols = new ArrayList<>();
        final Matcher result = RESULT.matcher(output);
        boolean allPassed = true;
        while (result.find())
        {
            protocols.add(result.group(1));
            final boolean pass = result.group(2).equals("PASS");
            allPassed &= pass;
            assertThat(result.group(8)).as(result.group()).startsWith(pass ? "proved=" : "reason=");
            if (pass)
            {
                assertThat(Long.parseLong(result.group(3))).as(result.group()).isPositive();
                assertThat(Long.parseLong(result.group(5))).as(result.group()).isPositive();
            }
        }
        assertThat(protocols).as(output).containsExactly("tcp", "udp", "http", "https");
        // HTTP through the L7 proxy works in every build since the node has it: it must survive the failover
        assertThat(output).containsPattern("(?m)^RESULT http PASS ");
        assertThat(demo.exitValue()).as(output).isEqualTo(allPassed ? Demo.EXIT_ALL_PASSED : Demo.EXIT_SOME_FAILED);
        assertThat(output).contains(allPassed ? "RESULT all PASS" : "RESULT some FAIL");

        assertThat(Testbed.existingNamespaces()).noneMatch(ns -> ns.startsWith(prefix + "-"));
        assertThat(TestbedState.fileFor(prefix)).doesNotExist();
        assertThat(TestbedState.runDir(prefix)).doesNotExist();
        final String runDir = TestbedState.runDir(prefix).toString();
        assertThat(ProcessHandle.allProcesses()
            .filter(p -> p.info().commandLine().map(c -> c.contains(runDir)).orElse(false))
            .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
            .toList()).isEmpty();
    }
}
