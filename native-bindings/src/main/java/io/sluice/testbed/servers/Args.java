package io.sluice.testbed.servers;

import java.util.HashMap;
import java.util.Map;

/** "--key value" arguments of the server mains; they are started by the testbed, not typed by users. */
final class Args
{
    private final Map<String, String> values;

    private Args(final Map<String, String> values)
    {
        this.values = values;
    }

    static Args parse(final String[] args)
    {
        final Map<String, String> values = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2)
        {
            if (!args[i].startsWith("--"))
            {
                throw new IllegalArgumentException("expected --key value pairs, got " + args[i]);
            }
            values.put(args[i], args[i + 1]);
        }
        return new Args(values);
    }

    String get(final String key, final String fallback)
    {
        return values.getOrDefault(key, fallback);
    }

    int getInt(final String key, final int fallback)
    {
        final String value = values.get(key);
        return value == null ? fallback : Integer.parseInt(value);
    }

    boolean has(final String key)
    {
        return values.containsKey(key);
    }
}
