package io.sluice.counters;

import org.agrona.concurrent.status.CountersReader;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A point-in-time copy of every allocated counter, taken from any {@link CountersReader} (ours or another process's).
 *
 * @param counters in allocation order.
 */
public record CounterSnapshot(List<Entry> counters)
{
    /**
     * One counter.
     *
     * @param id     the slot id.
     * @param typeId the stable type id (ranges per module, see CONTRIBUTING.md).
     * @param name   the label, unique in a snapshot (a repeated label gets {@code #id} appended).
     * @param value  the value when the snapshot was taken.
     */
    public record Entry(int id, int typeId, String name, long value)
    {
    }

    public static CounterSnapshot take(final CountersReader reader)
    {
        final List<Entry> entries = new ArrayList<>();
        final Map<String, Integer> seen = new HashMap<>();
        reader.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final String name = seen.merge(label, 1, Integer::sum) > 1 ? label + "#" + counterId : label;
            entries.add(new Entry(counterId, typeId, name, reader.getCounterValue(counterId)));
        });
        return new CounterSnapshot(Collections.unmodifiableList(entries));
    }

    public long value(final String name)
    {
        for (final Entry entry : counters)
        {
            if (entry.name().equals(name))
            {
                return entry.value();
            }
        }
        throw new IllegalArgumentException("no counter named " + name);
    }
}
