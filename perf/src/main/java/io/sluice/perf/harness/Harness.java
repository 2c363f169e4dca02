package io.sluice.perf.harness;

import io.sluice.perf.report.BenchReport;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;

import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs benchmarks on one testbed: for each case, run r starts each subject in turn (the order
 * rotating run by run, so no subject always follows the same one), measures it, stops it. Reports
 * median, min, max, CPU cost per unit and ratios; a progress line on {@code progress} (stderr).
 */
public final class Harness
{
    private static final double SMOKE_RUN_SECONDS = 3;

    private final Settings settings;
    private final PrintStream progress;
    private String testbedPrefix;
    private java.util.Set<String> onlySubjects;
    private java.util.Set<String> onlyCases;

    public Harness(final Settings settings, final PrintStream progress)
    {
        this.settings = settings;
        this.progress = progress;
    }

    /** Names the testbed's run prefix (tests: their prefix + pid) instead of a random one. */
    public Harness testbedPrefix(final String prefix)
    {
        this.testbedPrefix = prefix;
        return this;
    }

    /** Runs only the subjects with these names (null or empty: all); cases left without a subject are kept empty. */
    public Harness onlySubjects(final java.util.Set<String> names)
    {
        this.onlySubjects = names == null || names.isEmpty() ? null : java.util.Set.copyOf(names);
        return this;
    }

    /**
     * Runs only the cases with these names (null or empty: all), e.g. {@code tcp-connect} alone; a benchmark none of whose
     * cases is named is reported with no cases.
     */
    public Harness onlyCases(final java.util.Set<String> names)
    {
        this.onlyCases = names == null || names.isEmpty() ? null : java.util.Set.copyOf(names);
        return this;
    }

    /** Runs the named benchmarks ("all" expands to every one) on a fresh testbed. */
    public BenchReport run(final List<String> names, final String command) throws Exception
    {
        final List<String> expanded = names.contains("all") ? Benchmarks.NAMES : names;
        for (final String name : expanded)
        {
            Benchmarks.title(name);
        }
        final List<String> stillMissing = Baselines.ensureInstalled();
        if (!stillMissing.isEmpty())
        {
            progress.println("warning: could not install " + stillMissing + "; those subjects are reported missing");
        }
        final MachineFacts machine = MachineFacts.collect(settings.profile());
        final List<BenchReport.Benchmark> results = new ArrayList<>();
        final Testbed.Builder builder = Testbed.builder().backends(settings.backends());
        if (testbedPrefix != null)
        {
            builder.prefix(testbedPrefix);
        }
        try (Testbed testbed = builder.build())
        {
            prepare(testbed);
            final BenchContext ctx = new BenchContext(testbed, settings, testbed.runDir().resolve("bench"),
                new Certificates(testbed.runDir().resolve("bench").resolve("certs")));
            for (final String name : expanded)
            {
                final String unavailable = Benchmarks.notYetAvailable(name);
                if (unavailable != null)
                {
                    results.add(new BenchReport.Benchmark(name, Benchmarks.title(name), "not-yet-available", unavailable, List.of()));
                    continue;
                }
                final List<BenchReport.Case> cases = new ArrayList<>();
                for (final BenchCase benchCase : Benchmarks.cases(name))
                {
                    if (onlyCases != null && !onlyCases.contains(benchCase.name()))
                    {
                        continue;
                    }
                    cases.add(runCase(ctx, name, benchCase));
                }
                results.add(new BenchReport.Benchmark(name, Benchmarks.title(name), "ok", null, cases));
            }
        }
        finally
        {
            progress.println();
        }
        return new BenchReport(BenchReport.SCHEMA, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), command, machine,
            settings, results);
    }

    /**
     * VIP on lb1's loopback (the proxies listen on it); lb1 and the client tuned as any LB host and load generator are
     * (a proxy that closes first keeps TIME_WAIT on its backend side: with the default port range and no reuse a
     * connection-rate run exhausts lb1's ports within seconds); backends and their servers on the load CPU.
     */
    private void prepare(final Testbed testbed)
    {
        testbed.execChecked(Testbed.LB1, "ip", "addr", "add", AddressPlan.VIP_V4 + "/32", "dev", "lo");
        testbed.execChecked(Testbed.LB1, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535", "net.ipv4.tcp_tw_reuse=1");
        // the client too: h2load closes each of its connections first (TIME_WAIT on the client side), and at ~1500 new
        // TLS connections/s the default 28k-port range ran dry within a run, stalling whichever subject came next
        // (tls runs of 1587, 8, 332 handshakes/s for one subject, connect failures counted)
        testbed.execChecked(Testbed.CLIENT, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535", "net.ipv4.tcp_tw_reuse=1");
        if (settings.loadCpu() >= 0)
        {
            for (int k = 1; k <= testbed.backendCount(); k++)
            {
                for (final long pid : Testbed.namespacePids(testbed.ns(Testbed.backend(k))))
                {
                    testbed.exec(Testbed.backend(k), "taskset", "-a", "-pc", Integer.toString(settings.loadCpu()), Long.toString(pid));
                }
            }
        }
    }

    BenchReport.Case runCase(final BenchContext ctx, final String benchmark, final BenchCase benchCase)
    {
        final int runs = settings.runsFor(benchCase);
        final List<Subject> subjects = benchCase.subjects().stream()
            .filter(s -> onlySubjects == null || onlySubjects.contains(s.name())).toList();
        final Map<Subject, String> missing = new LinkedHashMap<>();
        final Map<Subject, String> failed = new LinkedHashMap<>();
        final Map<Subject, List<Measurement>> measured = new LinkedHashMap<>();
        final Map<Subject, List<Double>> costs = new LinkedHashMap<>();
        for (final Subject subject : subjects)
        {
            subject.unavailable(ctx).ifPresent(reason -> missing.put(subject, reason));
            measured.put(subject, new ArrayList<>());
            costs.put(subject, new ArrayList<>());
        }
        final List<Subject> runnable = subjects.stream().filter(s -> !missing.containsKey(s)).toList();
        for (int run = 0; run < runs; run++)
        {
            for (int i = 0; i < runnable.size(); i++)
            {
                final Subject subject = runnable.get((i + run) % runnable.size());
                if (failed.containsKey(subject))
                {
                    continue;
                }
                progress.printf(Locale.ROOT, "\r[%s] %s run %d/%d: %-20s%s", benchmark, benchCase.name(), run + 1, runs,
                    subject.name(), lastFigure(measured.get(subject), benchCase.unit()));
                progress.flush();
                try
                {
                    final Target target = subject.start(ctx);
                    // A subject's own minimum warm-up (JIT) is for measurements; runs under 3 s are smoke runs (the
                    // harness test), whose figures mean nothing anyway, and keep the warm-up they were given.
                    final double warmup = settings.runSeconds() < SMOKE_RUN_SECONDS ? settings.warmupSeconds()
                        : Math.max(settings.warmupSeconds(), subject.minWarmupSeconds());
                    if (warmup > 0)
                    {
                        benchCase.workload().run(ctx, target, warmup);
                    }
                    subject.measureStart(ctx);
                    final CpuMeter.Sample before = CpuMeter.sample(ctx.testbed(), List.of(Testbed.LB1));
                    final Measurement raw = benchCase.workload().run(ctx, target, settings.runSeconds());
                    final CpuMeter.Sample used = CpuMeter.sample(ctx.testbed(), List.of(Testbed.LB1)).minus(before);
                    final Map<String, Double> extra = new LinkedHashMap<>(raw.extra());
                    if (used.processSeconds() > 0)
                    {
                        // the LB's own processes only (no softirq): requests per proxy CPU-second and the like
                        extra.put("unitsPerProcessCpuSecond", raw.units() / used.processSeconds());
                    }
                    if (raw.units() > 0)
                    {
                        // the whole machine's softirq time per unit: where nftables and kernel forwarding do all their
                        // work, and where the veth and AF_XDP receive paths of an AF_XDP subject run
                        extra.put("softirqUsPerUnit", used.softirqSeconds() * 1e6 / raw.units());
                    }
                    extra.putAll(subject.measureEnd(ctx, raw));
                    final Measurement m = new Measurement(raw.value(), raw.units(), extra);
                    measured.get(subject).add(m);
                    if (m.units() > 0)
                    {
                        costs.get(subject).add(used.total() * 1e6 / m.units());
                    }
                }
                catch (final Exception | Error ex)
                {
                    failed.put(subject, ex.getClass().getSimpleName() + ": " + ex.getMessage());
                }
                finally
                {
                    try
                    {
                        subject.stop(ctx);
                    }
                    catch (final Exception ex)
                    {
                        failed.putIfAbsent(subject, "stop failed: " + ex.getMessage());
                    }
                }
            }
        }
        progress.printf(Locale.ROOT, "\r[%s] %s done%40s%n", benchmark, benchCase.name(), "");
        final Map<String, Double> medians = new LinkedHashMap<>();
        for (final Subject subject : runnable)
        {
            if (!failed.containsKey(subject) && !measured.get(subject).isEmpty())
            {
                medians.put(subject.name(), Stats.median(values(measured.get(subject))));
            }
        }
        final List<BenchReport.SubjectResult> results = new ArrayList<>();
        for (final Subject subject : subjects)
        {
            final String kind = subject.kind().name().toLowerCase(Locale.ROOT);
            if (missing.containsKey(subject))
            {
                results.add(new BenchReport.SubjectResult(subject.name(), kind, subject.description(), "missing", missing.get(subject),
                    null, null, null, List.of(), null, Map.of(), Map.of()));
                continue;
            }
            if (failed.containsKey(subject) || measured.get(subject).isEmpty())
            {
                results.add(new BenchReport.SubjectResult(subject.name(), kind, subject.description(), "failed",
                    failed.getOrDefault(subject, "no measurement"), null, null, null, values(measured.get(subject)), null, Map.of(),
                    Map.of()));
                continue;
            }
            final List<Double> values = values(measured.get(subject));
            final double median = Stats.median(values);
            final Map<String, Double> ratios = new LinkedHashMap<>();
            medians.forEach((other, otherMedian) ->
            {
                if (!other.equals(subject.name()) && otherMedian > 0)
                {
                    ratios.put(other, round(median / otherMedian, 4));
                }
            });
            results.add(new BenchReport.SubjectResult(subject.name(), kind, subject.description(), "ok", null, round(median, 2),
                round(Stats.min(values), 2), round(Stats.max(values), 2), values.stream().map(v -> round(v, 2)).toList(),
                costs.get(subject).isEmpty() ? null : round(Stats.median(costs.get(subject)), 4), extraMedians(measured.get(subject)),
                ratios));
        }
        return new BenchReport.Case(benchCase.name(), benchCase.title(), benchCase.unit(), benchCase.costUnit(), benchCase.load(),
            runs, results);
    }

    private static String lastFigure(final List<Measurement> done, final String unit)
    {
        return done.isEmpty() ? "" : String.format(Locale.ROOT, " (last %.0f %s)", done.getLast().value(), unit);
    }

    private static List<Double> values(final List<Measurement> measurements)
    {
        return measurements.stream().map(Measurement::value).toList();
    }

    private static Map<String, Double> extraMedians(final List<Measurement> measurements)
    {
        final Map<String, List<Double>> byKey = new LinkedHashMap<>();
        for (final Measurement m : measurements)
        {
            m.extra().forEach((key, value) ->
            {
                if (value != null && !value.isNaN())
                {
                    byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
                }
            });
        }
        final Map<String, Double> medians = new LinkedHashMap<>();
        byKey.forEach((key, values) -> medians.put(key, round(Stats.median(values), 4)));
        return medians;
    }

    private static double round(final double value, final int digits)
    {
        final double scale = Math.pow(10, digits);
        return Math.round(value * scale) / scale;
    }
}
