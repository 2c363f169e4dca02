package io.sluice.perf.cli;

import io.sluice.perf.harness.Benchmarks;
import io.sluice.perf.harness.Harness;
import io.sluice.perf.harness.Settings;
import io.sluice.perf.report.BenchReport;
import io.sluice.perf.report.PerformanceReport;
import io.sluice.perf.report.ReportJson;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code sluice bench l4|l7|tls|sync|all [--json] [--runs N] [--out FILE]}: the subjects side by
 * side on a fresh testbed, and {@code sluice bench report --from FILE [--out FILE]}: renders
 * docs/PERFORMANCE.md from a JSON result.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Run benchmarks (sluice and the baselines side by side on the namespace testbed), or render a report.",
        "  bench l4|l7|tls|sync|all [--json] [--runs N] [--seconds S] [--cases NAME,...] [--subjects NAME,...] [--out FILE]"
            + " [--markdown FILE]",
        "  bench report --from FILE [--out FILE]   (Markdown for docs/PERFORMANCE.md)"})
public final class BenchCommand implements Callable<Integer>
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "WHAT", description = "l4, l7, tls, sync, all, or report")
    List<String> what = new ArrayList<>();

    @Option(names = "--json", description = "print the result as JSON (schema sluice-bench/1, docs/bench-schema.md)")
    boolean json;

    @Option(names = "--runs", defaultValue = "3", description = "runs per subject, median reported (default ${DEFAULT-VALUE}; "
        + "noisy cases use 5 when ≥ 3)")
    int runs;

    @Option(names = "--seconds", defaultValue = "5", description = "seconds per run (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--warmup", defaultValue = "1", description = "unmeasured seconds of load before each run (default ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--pin", description = "pin the subject to CPU 1 and load + backends to CPU 0 (off by default: on a shared "
        + "2-core VM every cross-CPU wake-up waits behind other work; HAProxy conn/s fell from 4.6k to 0.47k pinned)")
    boolean pin;

    @Option(names = "--profile", defaultValue = "shared", description = "perf profile sluice subjects run with, recorded with "
        + "the figures (default ${DEFAULT-VALUE}: nothing busy-spins while load and backends share the cores)")
    String profile;

    @Option(names = "--backends", defaultValue = "2", description = "backend namespaces (default ${DEFAULT-VALUE})")
    int backends;

    @Option(names = "--subjects", split = ",", paramLabel = "NAME", description = "run only these subjects (e.g. sluice-shared,nginx); "
        + "default: every subject of each case")
    List<String> subjects = new ArrayList<>();

    @Option(names = "--cases", split = ",", paramLabel = "NAME", description = "run only these cases (e.g. tcp-connect); "
        + "default: every case of each benchmark")
    List<String> cases = new ArrayList<>();

    @Option(names = "--out", description = "bench: write the JSON here; report: write the Markdown here (default stdout)")
    Path out;

    @Option(names = "--markdown", description = "bench: also render the Markdown report to this file")
    Path markdown;

    @Option(names = "--from", description = "report: the JSON result to render")
    Path from;

    @Override
    public Integer call() throws Exception
    {
        final PrintWriter stdout = spec.commandLine().getOut();
        if (what.contains("report"))
        {
            if (from == null)
            {
                throw new CommandLine.ParameterException(spec.commandLine(), "report needs --from FILE");
            }
            final String md = PerformanceReport.withMeasured(PerformanceReport.markdown(ReportJson.read(from), displayPath(from)),
                from);
            if (out == null)
            {
                stdout.print(md);
            }
            else
            {
                Files.writeString(out, md);
            }
            return 0;
        }
        for (final String name : what)
        {
            if (!name.equals("all") && !Benchmarks.NAMES.contains(name))
            {
                throw new CommandLine.ParameterException(spec.commandLine(),
                    "WHAT: '" + name + "' is not one of l4, l7, tls, sync, all, report");
            }
        }
        if (!cases.isEmpty())
        {
            final List<String> known = (what.contains("all") ? Benchmarks.NAMES : what).stream()
                .flatMap(name -> Benchmarks.cases(name).stream()).map(c -> c.name()).toList();
            for (final String name : cases)
            {
                if (!known.contains(name))
                {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                        "--cases: '" + name + "' is not a case of " + what + " (" + String.join(", ", known) + ")");
                }
            }
        }
        if (runs < 3)
        {
            spec.commandLine().getErr().println("warning: --runs " + runs + " < 3: a median of fewer than 3 runs is not a result");
        }
        final Settings unpinned = new Settings(runs, seconds, warmup, backends, -1, -1, profile);
        final Settings settings = pin ? unpinned.pinned() : unpinned;
        final BenchReport report = new Harness(settings, System.err).onlySubjects(new java.util.HashSet<>(subjects))
            .onlyCases(new java.util.HashSet<>(cases))
            .run(what, commandLine());
        if (out != null)
        {
            ReportJson.write(report, out);
        }
        final String md = PerformanceReport.withMeasured(
            PerformanceReport.markdown(report, out == null ? "(not saved)" : displayPath(out)), out);
        if (markdown != null)
        {
            Files.writeString(markdown, md);
        }
        stdout.print(json ? ReportJson.write(report) : md);
        stdout.flush();
        return report.benchmarks().stream().flatMap(b -> b.cases().stream()).flatMap(c -> c.subjects().stream())
            .anyMatch(s -> "failed".equals(s.status())) ? 1 : 0;
    }

    private String commandLine()
    {
        final List<String> parts = new ArrayList<>(List.of("./sluice", "bench"));
        parts.addAll(what);
        if (json)
        {
            parts.add("--json");
        }
        parts.add("--runs");
        parts.add(Integer.toString(runs));
        parts.add("--seconds");
        parts.add(seconds == Math.rint(seconds) ? Long.toString((long)seconds) : Double.toString(seconds));
        if (warmup != 1)
        {
            parts.add("--warmup");
            parts.add(Double.toString(warmup));
        }
        if (pin)
        {
            parts.add("--pin");
        }
        if (!"shared".equals(profile))
        {
            parts.add("--profile");
            parts.add(profile);
        }
        if (backends != 2)
        {
            parts.add("--backends");
            parts.add(Integer.toString(backends));
        }
        if (!cases.isEmpty())
        {
            parts.add("--cases");
            parts.add(String.join(",", cases));
        }
        if (!subjects.isEmpty())
        {
            parts.add("--subjects");
            parts.add(String.join(",", subjects));
        }
        if (out != null)
        {
            parts.add("--out");
            parts.add(displayPath(out));
        }
        return String.join(" ", parts);
    }

    private static String displayPath(final Path path)
    {
        final Path cwd = Path.of("").toAbsolutePath();
        final Path abs = path.toAbsolutePath().normalize();
        return abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString();
    }

    public static void main(final String[] args)
    {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }
}
