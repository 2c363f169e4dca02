package io.sluice.l7;

/**
 * A proxy configuration value outside its allowed range. The message names the field, the bad value and the range, so
 * control can surface it to the user unchanged.
 */
public final class ConfigException extends IllegalArgumentException
{
    public ConfigException(final String message)
    {
        super(message);
    }

    static int range(final String field, final int value, final int min, final int max)
    {
        if (value < min || value > max)
        {
            throw new ConfigException(field + ": " + value + " is not in " + min + ".." + max);
        }
        return value;
    }

    static long range(final String field, final long value, final long min, final long max)
    {
        if (value < min || value > max)
        {
            throw new ConfigException(field + ": " + value + " is not in " + min + ".." + max);
        }
        return value;
    }

    static <T> T required(final String field, final T value)
    {
        if (value == null)
        {
            throw new ConfigException(field + ": is required");
        }
        return value;
    }
}
