package io.sluice.l7;

/**
 * The slowest request body a listener accepts (slow-POST defence, like Apache's {@code mod_reqtimeout} body
 * {@code MinRate}): while a body is being read, each window of {@code windowSeconds} must bring at least
 * {@code minBytesPerSecond × windowSeconds} bytes, else the client gets 408 and the connection closes. A window in which
 * the proxy itself stopped reading (the backend was not taking the body: backpressure) is not held against the client.
 * {@code requestTimeoutSeconds} still bounds the whole exchange.
 *
 * @param minBytesPerSecond 0 turns the floor off; 0..2^30 (default 512).
 * @param windowSeconds     length of one measuring window, 1..60 (default 10): long enough that a client pausing
 *                          briefly (a mobile radio waking up) is not cut off.
 */
public record BodyRate(int minBytesPerSecond, int windowSeconds)
{
    public static final BodyRate DEFAULT = new BodyRate(512, 10);
    public static final BodyRate OFF = new BodyRate(0, 10);

    public BodyRate
    {
        ConfigException.range("minBodyBytesPerSecond", minBytesPerSecond, 0, 1 << 30);
        ConfigException.range("bodyRateWindowSeconds", windowSeconds, 1, 60);
    }

    /** Bytes one window must bring. */
    long minBytesPerWindow()
    {
        return (long)minBytesPerSecond * windowSeconds;
    }
}
