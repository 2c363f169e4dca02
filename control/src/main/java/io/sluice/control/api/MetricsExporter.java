package io.sluice.control.api;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code /metrics}: every counter of the node's counters file in the Prometheus text format, plus extra series
 * (health per server) from the node. A counter label {@code a.b.c} becomes {@code sluice_a_b_c}; a label
 * {@code a.b{lb=web,listener=tcp:80}} becomes {@code sluice_a_b{lb="web",listener="tcp:80"}}.
 */
public final class MetricsExporter
{
    /**
     * A series the node adds beside the counters.
     *
     * @param name   metric name without the sluice_ prefix.
     * @param labels label name/value pairs.
     * @param value  the value.
     */
    public record Series(String name, Map<String, String> labels, double value)
    {
    }

    private final CountersReader counters;
    private final java.util.function.Supplier<List<Series>> extra;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    public MetricsExporter(final CountersReader counters, final java.util.function.Supplier<List<Series>> extra)
    {
        this.counters = counters;
        this.extra = extra;
    }

    public String contentType()
    {
        return writer.getContentType();
    }

    public void write(final OutputStream out) throws IOException
    {
        final Map<String, List<UnknownSnapshot.UnknownDataPointSnapshot>> byName = new LinkedHashMap<>();
        final Set<String> seen = new HashSet<>();
        counters.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final Series series = parse(label, counters.getCounterValue(counterId));
            Map<String, String> labels = series.labels();
            if (!seen.add(series.name() + labels))
            {
                labels = new LinkedHashMap<>(labels);
                labels.put("counter_id", Integer.toString(counterId));
            }
            add(byName, series.name(), labels, series.value());
        });
        for (final Series series : extra.get())
        {
            add(byName, series.name(), series.labels(), series.value());
        }
        final List<io.prometheus.metrics.model.snapshots.MetricSnapshot> snapshots = new ArrayList<>();
        for (final Map.Entry<String, List<UnknownSnapshot.UnknownDataPointSnapshot>> entry : byName.entrySet())
        {
            final UnknownSnapshot.Builder builder = UnknownSnapshot.builder().name(entry.getKey());
            entry.getValue().forEach(builder::dataPoint);
            snapshots.add(builder.build());
        }
        writer.write(out, new MetricSnapshots(snapshots));
    }

    private static void add(final Map<String, List<UnknownSnapshot.UnknownDataPointSnapshot>> byName, final String name,
        final Map<String, String> labels, final double value)
    {
        final String metric = "sluice_" + name.replaceAll("[^a-zA-Z0-9_]", "_");
        final List<String> names = new ArrayList<>(labels.keySet());
        final List<String> values = new ArrayList<>(labels.values());
        byName.computeIfAbsent(metric, k -> new ArrayList<>()).add(UnknownSnapshot.UnknownDataPointSnapshot.builder()
            .labels(Labels.of(names.stream().map(n -> n.replaceAll("[^a-zA-Z0-9_]", "_")).toList(), values))
            .value(value).build());
    }

    static Series parse(final String label, final double value)
    {
        final int brace = label.indexOf('{');
        if (brace < 0 || !label.endsWith("}"))
        {
            return new Series(label, Map.of(), value);
        }
        final Map<String, String> labels = new LinkedHashMap<>();
        for (final String pair : label.substring(brace + 1, label.length() - 1).split(","))
        {
            final int eq = pair.indexOf('=');
            if (eq > 0)
            {
                labels.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
            }
        }
        return new Series(label.substring(0, brace), labels, value);
    }
}
