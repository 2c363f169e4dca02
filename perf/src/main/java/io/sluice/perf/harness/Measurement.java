package io.sluice.perf.harness;

import java.util.Map;

/**
 * One run of one subject: the figure (rate in the case's unit), the count of work units behind it
 * (packets, requests, handshakes — the divisor of the CPU cost) and extra figures (latency, loss).
 */
public record Measurement(double value, double units, Map<String, Double> extra)
{
}
