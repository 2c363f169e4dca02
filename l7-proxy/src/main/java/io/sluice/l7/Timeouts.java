package io.sluice.l7;

/**
 * Per-listener timeouts (CONTRACT.md http/https keys), validated to their documented ranges.
 *
 * @param idleTimeoutSeconds    a client connection with no traffic either way is closed, 1..60 (default 15).
 * @param requestTimeoutSeconds from a forwarded request head to the backend's response head, else 504, 1..180 (default 60).
 * @param headerTimeoutSeconds  from a request's first byte to its complete head, else 408 and close (slowloris), 1..60
 *                              (default 10).
 * @param connectTimeoutMillis  TCP connect to a backend, then the request retries elsewhere, 50..60000 (default 3000).
 */
public record Timeouts(int idleTimeoutSeconds, int requestTimeoutSeconds, int headerTimeoutSeconds, int connectTimeoutMillis)
{
    public static final Timeouts DEFAULT = new Timeouts(15, 60, 10, 3_000);

    public Timeouts
    {
        ConfigException.range("idleTimeoutSeconds", idleTimeoutSeconds, 1, 60);
        ConfigException.range("requestTimeoutSeconds", requestTimeoutSeconds, 1, 180);
        ConfigException.range("headerTimeoutSeconds", headerTimeoutSeconds, 1, 60);
        ConfigException.range("connectTimeoutMillis", connectTimeoutMillis, 50, 60_000);
    }
}
