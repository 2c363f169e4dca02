package io.sluice.l7;

/**
 * A load balancer's outbound peak, shared by every listener that names the same instance: one bucket for all of them.
 *
 * @param instance       the load balancer's name; listeners naming it share its bucket.
 * @param bytesPerSecond the whole peak (before any cluster share), positive.
 */
public record InstancePeak(String instance, long bytesPerSecond)
{
    public InstancePeak
    {
        ConfigException.required("instancePeak.instance", instance);
        ConfigException.range("instancePeak.bytesPerSecond", bytesPerSecond, 1, Long.MAX_VALUE / 1_000_000_000L);
    }
}
