package io.sluice.l7;

/**
 * What the {@link SchedulerType#HASH} scheduler hashes: the client's source address, a request header or a cookie.
 *
 * @param source ip, header or cookie.
 * @param name   header or cookie name; required for those two sources, ignored for ip.
 */
public record HashKey(Source source, String name)
{
    /** Where the hashed value comes from. */
    public enum Source
    {
        IP,
        HEADER,
        COOKIE
    }

    public static final HashKey SOURCE_IP = new HashKey(Source.IP, null);

    public HashKey
    {
        ConfigException.required("hashKey.source", source);
        if (source != Source.IP && (name == null || name.isBlank()))
        {
            throw new ConfigException("hashKey.name: is required when hashKey.source is " + source.name().toLowerCase());
        }
    }
}
