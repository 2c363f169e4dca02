package io.sluice.fastpath;

/**
 * Forwarder tunables with their defaults, units in the names, validated once.
 *
 * @param embryonicTimeoutSeconds TCP before the handshake completes (SYN seen, no final ACK): 30 s.
 * @param closingTimeoutSeconds   TCP after a FIN: 10 s, as LVS's close timeout; RST closes at once.
 * @param udpTimeoutSeconds       UDP idle: 300 s.
 * @param rxBatchSize             frames per poll.
 * @param expiryBudget            session records the wheel examines per duty cycle (bounds the pause).
 * @param wheelTickNs             timer-wheel tick: expiry resolution.
 * @param wheelSlots              ticks per revolution (covers the longest timeout at 1 s ticks: 65535 → re-linked).
 * @param handoffRingBytes        capacity of each forwarder-to-forwarder hand-off ring (power of two; 256 KiB: ~3,600
 *                                64-byte frames); there are N × (N − 1) of them.
 * @param snatProbeLimit          SNAT ports tried for a new flow before giving up.
 * @param maglevMinTableSize      Maglev table size floor (prime; 65537 by default).
 * @param counterFlushIntervalNs  how stale shared counters may get while the forwarder is busy.
 * @param persistenceCapacity     source-IP persistence entries per forwarder.
 */
public record ForwarderConfiguration(
    int embryonicTimeoutSeconds,
    int closingTimeoutSeconds,
    int udpTimeoutSeconds,
    int rxBatchSize,
    int expiryBudget,
    long wheelTickNs,
    int wheelSlots,
    int handoffRingBytes,
    int snatProbeLimit,
    int maglevMinTableSize,
    long counterFlushIntervalNs,
    int persistenceCapacity)
{
    public static final ForwarderConfiguration DEFAULT =
        new ForwarderConfiguration(30, 10, 300, 64, 1024, 1_000_000_000L, 4096, 1 << 18, 64, 65537, 1_000_000L, 1 << 16);

    public ForwarderConfiguration
    {
        check("embryonicTimeoutSeconds", embryonicTimeoutSeconds, 1, 65535);
        check("closingTimeoutSeconds", closingTimeoutSeconds, 1, 65535);
        check("udpTimeoutSeconds", udpTimeoutSeconds, 1, 65535);
        check("rxBatchSize", rxBatchSize, 1, 4096);
        check("expiryBudget", expiryBudget, 1, 1 << 20);
        check("wheelSlots", wheelSlots, 16, 1 << 20);
        check("snatProbeLimit", snatProbeLimit, 1, 65535);
        check("maglevMinTableSize", maglevMinTableSize, 2, 1 << 24);
        check("persistenceCapacity", persistenceCapacity, 16, 1 << 26);
        if (wheelTickNs < 1_000_000L)
        {
            throw new IllegalArgumentException("wheelTickNs: " + wheelTickNs + " is not >= 1000000");
        }
        if (Integer.bitCount(handoffRingBytes) != 1 || handoffRingBytes < 4096)
        {
            throw new IllegalArgumentException("handoffRingBytes: " + handoffRingBytes + " is not a power of two >= 4096");
        }
    }

    private static void check(final String name, final int value, final int min, final int max)
    {
        if (value < min || value > max)
        {
            throw new IllegalArgumentException(name + ": " + value + " is not in " + min + ".." + max);
        }
    }
}
