package io.sluice.perf.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class BenchCommandTest
{
    @Test
    void shouldRefuseAnUnknownCaseNamingTheBenchmarksCases()
    {
        final StringWriter err = new StringWriter();
        final CommandLine cli = new CommandLine(new BenchCommand()).setErr(new PrintWriter(err));

        final int exit = cli.execute("l4", "--cases", "tcp-connect,tcp-conect");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("--cases: 'tcp-conect' is not a case of [l4]", "udp-64B", "tcp-connect");
    }
}
