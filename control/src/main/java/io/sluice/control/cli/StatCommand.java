package io.sluice.control.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.counters.CounterSnapshot;
import io.sluice.counters.CountersFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/** {@code sluice stat}: the node's live counters, read from its memory-mapped counters file by another process. */
@Command(name = "stat", mixinStandardHelpOptions = true,
    description = "Live counters read from a node's counters file (<stateDir>/counters), from another process.")
final class StatCommand implements Callable<Integer>
{
    /** A node whose heartbeat is older than this is reported as not running. */
    private static final long STALE_HEARTBEAT_MS = 3000;

    @Option(names = "--dir", paramLabel = "STATEDIR", defaultValue = "/var/lib/sluice", description = "The node's stateDir "
        + "(default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--json", description = "One JSON object: counter name → value (drop counters have 'drop' in their names).")
    boolean json;

    @Option(names = "--watch", description = "Refresh until interrupted, with per-second rates.")
    boolean watch;

    @Option(names = "--interval-ms", defaultValue = "1000", description = "Refresh period with --watch (default: ${DEFAULT-VALUE}).")
    long intervalMs;

    @Option(names = "--count", defaultValue = "0", description = "With --watch: stop after this many refreshes (0 = never).")
    int count;

    @Override
    public Integer call() throws Exception
    {
        final CountersFile file;
        try
        {
            file = CountersFile.openForReading(dir.resolve(CountersFile.FILE_NAME));
        }
        catch (final IllegalStateException ex)
        {
            System.err.println("sluice stat: " + ex.getMessage());
            return 1;
        }
        try (file)
        {
            final PrintStream out = System.out;
            CounterSnapshot previous = null;
            long previousNs = 0;
            int shown = 0;
            do
            {
                final CounterSnapshot snapshot = CounterSnapshot.take(file.reader());
                final long nowNs = System.nanoTime();
                if (json)
                {
                    out.println(toJson(snapshot));
                }
                else
                {
                    if (watch)
                    {
                        out.print("\033[H\033[2J");
                    }
                    out.print(table(file, snapshot, previous, (nowNs - previousNs) / 1e9));
                }
                out.flush();
                previous = snapshot;
                previousNs = nowNs;
                shown++;
                if (watch && (count == 0 || shown < count))
                {
                    LockSupport.parkNanos(Duration.ofMillis(intervalMs).toNanos());
                }
            }
            while (watch && (count == 0 || shown < count) && !Thread.currentThread().isInterrupted());
        }
        return 0;
    }

    static String toJson(final CounterSnapshot snapshot)
    {
        final ObjectMapper mapper = new ObjectMapper();
        final ObjectNode node = mapper.createObjectNode();
        for (final CounterSnapshot.Entry entry : snapshot.counters())
        {
            node.put(entry.name(), entry.value());
        }
        return node.toString();
    }

    static String table(final CountersFile file, final CounterSnapshot snapshot, final CounterSnapshot previous,
        final double seconds)
    {
        final long heartbeatAge = System.currentTimeMillis() - file.heartbeatMs();
        final boolean alive = heartbeatAge < STALE_HEARTBEAT_MS && ProcessHandle.of(file.ownerPid()).isPresent();
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format("node %s  pid %d  %s  uptime %ds%n", file.nodeName(), file.ownerPid(),
            alive ? "running" : "NOT RUNNING (heartbeat " + heartbeatAge / 1000 + " s old)",
            (file.heartbeatMs() - file.startTimestampMs()) / 1000));
        final Map<Integer, Long> before = new HashMap<>();
        if (previous != null)
        {
            for (final CounterSnapshot.Entry entry : previous.counters())
            {
                before.put(entry.id(), entry.value());
            }
        }
        final int width = snapshot.counters().stream().mapToInt(e -> e.name().length()).max().orElse(10);
        sb.append(String.format("%5s %-" + width + "s %20s%s%n", "id", "counter", "value", previous != null ? "          per sec" : ""));
        for (final CounterSnapshot.Entry entry : snapshot.counters())
        {
            sb.append(String.format("%5d %-" + width + "s %,20d", entry.id(), entry.name(), entry.value()));
            if (previous != null && seconds > 0)
            {
                final Long old = before.get(entry.id());
                sb.append(old == null ? "" : String.format(" %,16.0f", (entry.value() - old) / seconds));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
