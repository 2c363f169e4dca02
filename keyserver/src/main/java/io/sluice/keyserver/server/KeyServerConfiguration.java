package io.sluice.keyserver.server;

import java.nio.file.Path;

import io.sluice.keyserver.ipc.KeyServerDescriptor;

/**
 * Everything a key server run is configured with, validated once.
 *
 * @param dir the key directory (sealed entries).
 * @param shmDir directory of the shared-memory file.
 * @param masterKeyFile the master key, outside dir.
 * @param layout ring sizes and limits of the shared-memory file.
 * @param workerThreads crypto worker threads (1..64).
 * @param heartbeatIntervalMs how often the server stamps its heartbeat (10..1000).
 * @param clientTimeoutMs a client silent this long (or whose pid is gone) loses its slot (100..60000).
 * @param unblockTimeoutMs a request ring stuck this long behind an uncommitted claim is unblocked (100..60000).
 * @param rescanIntervalMs how often the key directory is rescanned for imports (50..60000).
 * @param ticketRotationMs session-ticket key rotation period (60000..86400000).
 * @param cryptoProvider "auto", "libcrypto" or "jca".
 */
public record KeyServerConfiguration(
    Path dir,
    Path shmDir,
    Path masterKeyFile,
    KeyServerDescriptor.Layout layout,
    int workerThreads,
    long heartbeatIntervalMs,
    long clientTimeoutMs,
    long unblockTimeoutMs,
    long rescanIntervalMs,
    long ticketRotationMs,
    String cryptoProvider)
{
    public static final Path DEFAULT_SHM_DIR = Path.of("/dev/shm/sluice/keyserver");
    public static final KeyServerDescriptor.Layout DEFAULT_LAYOUT = new KeyServerDescriptor.Layout(1 << 20, 1 << 17, 32, 8192);
    public static final int DEFAULT_WORKER_THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());
    public static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 100;
    public static final long DEFAULT_CLIENT_TIMEOUT_MS = 2000;
    public static final long DEFAULT_UNBLOCK_TIMEOUT_MS = 1000;
    public static final long DEFAULT_RESCAN_INTERVAL_MS = 500;
    public static final long DEFAULT_TICKET_ROTATION_MS = 3_600_000;

    public KeyServerConfiguration
    {
        check("workerThreads", workerThreads, 1, 64);
        check("heartbeatIntervalMs", heartbeatIntervalMs, 10, 1000);
        check("clientTimeoutMs", clientTimeoutMs, 100, 60_000);
        check("unblockTimeoutMs", unblockTimeoutMs, 100, 60_000);
        check("rescanIntervalMs", rescanIntervalMs, 50, 60_000);
        check("ticketRotationMs", ticketRotationMs, 60_000, 86_400_000);
        if (dir == null || shmDir == null || masterKeyFile == null || layout == null)
        {
            throw new IllegalArgumentException("dir, shmDir, masterKeyFile and layout are required");
        }
    }

    /**
     * @param dir key directory.
     * @param shmDir shared-memory directory.
     * @param masterKeyFile master key file.
     * @return a configuration with every other field at its default.
     */
    public static KeyServerConfiguration defaults(final Path dir, final Path shmDir, final Path masterKeyFile)
    {
        return new KeyServerConfiguration(dir, shmDir, masterKeyFile, DEFAULT_LAYOUT, DEFAULT_WORKER_THREADS,
            DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_CLIENT_TIMEOUT_MS, DEFAULT_UNBLOCK_TIMEOUT_MS, DEFAULT_RESCAN_INTERVAL_MS,
            DEFAULT_TICKET_ROTATION_MS, "auto");
    }

    private static void check(final String field, final long value, final long min, final long max)
    {
        if (value < min || value > max)
        {
            throw new IllegalArgumentException(field + ": " + value + " is not in " + min + ".." + max);
        }
    }
}
