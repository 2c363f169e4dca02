package io.sluice.control.node;

import io.sluice.nativeio.Libc;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * A perf profile: how busy threads idle and whether they are pinned. Profiles are files ({@code profiles/NAME.properties}
 * in the distribution, editable by the operator; the built-in copies otherwise).
 *
 * @param name          latency | throughput | balanced | shared.
 * @param idleKind      busy-spin | yielding | backoff | sleeping.
 * @param maxSpins      backoff: spins before yielding.
 * @param maxYields     backoff: yields before parking.
 * @param minParkNanos  backoff: first park.
 * @param maxParkNanos  backoff: longest park (sleeping: the park).
 * @param pinThreads    pin each busy thread to its own CPU.
 * @param cpus          CPUs to pin to, e.g. "2-5,8"; empty = all online CPUs.
 * @param xdpBusyPoll   set SO_BUSY_POLL / SO_PREFER_BUSY_POLL on AF_XDP sockets.
 * @param l7IoThreads   event loops of the L7 proxy; 0 = one per CPU.
 * @param forwarderNice nice value of the fastpath forwarder threads that sleep in poll(2) (backoff, sleeping); 0 = unchanged.
 * @param l7Transport   the L7 proxy's Netty transport: io_uring | epoll | nio.
 * @param forwarderSliceNanos  EEVDF time slice the forwarder threads ask for (sched_setattr); 0 = the kernel's default.
 * @param l7EventLoopSliceNanos EEVDF time slice the L7 event loops ask for; 0 = the kernel's default.
 */
public record PerfProfile(String name, String idleKind, int maxSpins, int maxYields, long minParkNanos, long maxParkNanos,
    boolean pinThreads, String cpus, boolean xdpBusyPoll, int l7IoThreads,
    int forwarderNice, String l7Transport, long forwarderSliceNanos, long l7EventLoopSliceNanos)
{
    public static final List<String> NAMES = List.of("latency", "throughput", "balanced", "shared");
    private static final Set<String> IDLE_KINDS = Set.of("busy-spin", "yielding", "backoff", "sleeping");
    private static final Set<String> L7_TRANSPORTS = Set.of("io_uring", "epoll", "nio");
    private static final Set<String> KEYS = Set.of("idle.strategy", "idle.maxSpins", "idle.maxYields", "idle.minParkNanos",
        "idle.maxParkNanos", "threads.pin", "threads.cpus", "xdp.busyPoll", "l7.ioThreads",
        "threads.forwarderNice", "l7.transport", "threads.forwarderSliceNanos", "l7.eventLoopSliceNanos");

    /** A fresh idle strategy for one thread (strategies hold per-thread state). */
    public IdleStrategy newIdleStrategy()
    {
        return switch (idleKind)
        {
            case "busy-spin" -> new BusySpinIdleStrategy();
            case "yielding" -> new YieldingIdleStrategy();
            case "sleeping" -> new SleepingIdleStrategy(maxParkNanos);
            default -> new BackoffIdleStrategy(maxSpins, maxYields, minParkNanos, maxParkNanos);
        };
    }

    /**
     * Loads a profile: {@code <home>/profiles/NAME.properties} when it exists, else the built-in one.
     *
     * @param name one of {@link #NAMES}.
     * @param home the distribution directory, or null.
     * @return the profile.
     * @throws IllegalArgumentException naming the file, key and allowed values when it is invalid.
     */
    public static PerfProfile load(final String name, final Path home)
    {
        if (!NAMES.contains(name))
        {
            throw new IllegalArgumentException("profile \"" + name + "\" is not one of " + String.join(" | ", NAMES));
        }
        final Properties properties = new Properties();
        final Path file = home == null ? null : home.resolve("profiles").resolve(name + ".properties");
        final String source;
        try
        {
            if (file != null && Files.isRegularFile(file))
            {
                try (Reader reader = Files.newBufferedReader(file))
                {
                    properties.load(reader);
                }
                source = file.toString();
            }
            else
            {
                try (InputStream in = PerfProfile.class.getResourceAsStream("/io/sluice/control/profiles/" + name + ".properties"))
                {
                    properties.load(in);
                }
                source = "built-in " + name + ".properties";
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read profile " + name + ": " + ex.getMessage(), ex);
        }
        return parse(name, properties, source);
    }

    static PerfProfile parse(final String name, final Properties p, final String source)
    {
        final List<String> errors = new ArrayList<>();
        for (final String key : p.stringPropertyNames())
        {
            if (!KEYS.contains(key))
            {
                errors.add(key + ": unknown key (allowed: " + String.join(", ", KEYS.stream().sorted().toList()) + ")");
            }
        }
        final String idle = p.getProperty("idle.strategy", "backoff").trim();
        if (!IDLE_KINDS.contains(idle))
        {
            errors.add("idle.strategy: \"" + idle + "\" is not one of busy-spin | yielding | backoff | sleeping");
        }
        final long maxSpins = number(p, "idle.maxSpins", 10, 0, 1_000_000, errors);
        final long maxYields = number(p, "idle.maxYields", 5, 0, 1_000_000, errors);
        final long minPark = number(p, "idle.minParkNanos", 1000, 0, 1_000_000_000, errors);
        final long maxPark = number(p, "idle.maxParkNanos", 1_000_000, 0, 1_000_000_000, errors);
        if (maxPark < minPark)
        {
            errors.add("idle.maxParkNanos: " + maxPark + " is less than idle.minParkNanos (" + minPark + ")");
        }
        final String cpus = p.getProperty("threads.cpus", "").trim();
        if (!cpus.isEmpty() && !cpus.matches("\\d+(-\\d+)?(,\\d+(-\\d+)?)*"))
        {
            errors.add("threads.cpus: \"" + cpus + "\" is not a CPU list like 2-5,8");
        }
        final long ioThreads = number(p, "l7.ioThreads", 0, 0, 1024, errors);
        final long forwarderNice = number(p, "threads.forwarderNice", 0, -20, 19, errors);
        final long forwarderSlice = slice(p, "threads.forwarderSliceNanos", errors);
        final long eventLoopSlice = slice(p, "l7.eventLoopSliceNanos", errors);
        final String transport = p.getProperty("l7.transport", "io_uring").trim();
        if (!L7_TRANSPORTS.contains(transport))
        {
            errors.add("l7.transport: \"" + transport + "\" is not one of io_uring | epoll | nio");
        }
        if (!errors.isEmpty())
        {
            throw new IllegalArgumentException(source + ": " + String.join("; ", errors));
        }
        return new PerfProfile(name, idle, (int)maxSpins, (int)maxYields, minPark, maxPark,
            Boolean.parseBoolean(p.getProperty("threads.pin", "false").trim()), cpus,
            Boolean.parseBoolean(p.getProperty("xdp.busyPoll", "false").trim()), (int)ioThreads,
            (int)forwarderNice, transport, forwarderSlice, eventLoopSlice);
    }

    /** A time slice: 0 (the kernel's default) or within EEVDF's 0.1..100 ms, which the kernel would otherwise clamp to. */
    private static long slice(final Properties p, final String key, final List<String> errors)
    {
        final long value = number(p, key, 0, 0, Libc.MAX_SLICE_NANOS, errors);
        if (value > 0 && value < Libc.MIN_SLICE_NANOS)
        {
            errors.add(key + ": " + value + " is neither 0 (the kernel's default) nor in " + Libc.MIN_SLICE_NANOS + ".."
                + Libc.MAX_SLICE_NANOS);
        }
        return value;
    }

    private static long number(final Properties p, final String key, final long fallback, final long min, final long max,
        final List<String> errors)
    {
        final String text = p.getProperty(key);
        if (text == null || text.isBlank())
        {
            return fallback;
        }
        try
        {
            final long value = Long.parseLong(text.trim());
            if (value < min || value > max)
            {
                errors.add(key + ": " + value + " is not in " + min + ".." + max);
            }
            return value;
        }
        catch (final NumberFormatException ex)
        {
            errors.add(key + ": \"" + text.trim() + "\" is not an integer");
            return fallback;
        }
    }

    /** The CPUs busy threads are pinned to, in order: the configured list, else every CPU this process may use. */
    public int[] cpuList()
    {
        if (cpus.isEmpty())
        {
            final int n = Runtime.getRuntime().availableProcessors();
            final int[] all = new int[n];
            for (int i = 0; i < n; i++)
            {
                all[i] = i;
            }
            return all;
        }
        final List<Integer> list = new ArrayList<>();
        for (final String part : cpus.split(","))
        {
            final String[] range = part.split("-");
            final int from = Integer.parseInt(range[0]);
            final int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
            for (int cpu = from; cpu <= to; cpu++)
            {
                list.add(cpu);
            }
        }
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
