package io.sluice.control.demo;

import io.sluice.testbed.Netns;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Real client traffic: one thread per protocol inside the client namespace, each sending requests at a bounded rate
 * (new connection each) until stopped, counting answers before and after the failover instant.
 */
final class Traffic
{
    /** Counts for one protocol; written by its worker thread, read by the progress view. */
    static final class Stream
    {
        final String protocol;
        final Probes.Probe probe;
        final AtomicLong okBefore = new AtomicLong();
        final AtomicLong failedBefore = new AtomicLong();
        final AtomicLong okAfter = new AtomicLong();
        final AtomicLong failedAfter = new AtomicLong();
        /** Answers since the last failure: recovery needs some. */
        final AtomicLong okSinceFailure = new AtomicLong();
        final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        final Map<String, LongAdder> backends = new ConcurrentHashMap<>();
        volatile long lastFailureAfterKillNs;
        volatile String lastError;

        Stream(final String protocol, final Probes.Probe probe)
        {
            this.protocol = protocol;
            this.probe = probe;
        }

        long ok()
        {
            return okBefore.get() + okAfter.get();
        }

        long failed()
        {
            return failedBefore.get() + failedAfter.get();
        }

        /** The most frequent failure reason, or null. */
        String topError()
        {
            return errors.entrySet().stream().max(Comparator.comparingLong(e -> e.getValue().sum())).map(Map.Entry::getKey)
                .orElse(null);
        }
    }

    private final String clientNamespace;
    private final long intervalNs;
    private final List<Stream> streams = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;
    /** nanoTime of the failover (SIGKILL of lb1's node), 0 before it. */
    private volatile long killNs;

    /**
     * @param clientNamespace where the clients run.
     * @param ratePerSecond   requests per second per protocol at most.
     */
    Traffic(final String clientNamespace, final int ratePerSecond)
    {
        this.clientNamespace = clientNamespace;
        this.intervalNs = TimeUnit.SECONDS.toNanos(1) / Math.max(1, ratePerSecond);
    }

    Stream add(final String protocol, final Probes.Probe probe)
    {
        final Stream stream = new Stream(protocol, probe);
        streams.add(stream);
        return stream;
    }

    List<Stream> streams()
    {
        return streams;
    }

    long killNs()
    {
        return killNs;
    }

    void markKill(final long nanoTime)
    {
        killNs = nanoTime;
    }

    void start()
    {
        running = true;
        for (final Stream stream : streams)
        {
            threads.add(Netns.start(clientNamespace, "demo-" + stream.protocol, () -> drive(stream)));
        }
    }

    void stop() throws InterruptedException
    {
        running = false;
        for (final Thread thread : threads)
        {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        }
    }

    private void drive(final Stream stream)
    {
        long sequence = 0;
        long next = System.nanoTime();
        while (running)
        {
            final long started = System.nanoTime();
            final boolean after = killNs != 0 && started >= killNs;
            try
            {
                final String backend = stream.probe.once(sequence++);
                (after ? stream.okAfter : stream.okBefore).incrementAndGet();
                stream.okSinceFailure.incrementAndGet();
                if (backend != null)
                {
                    stream.backends.computeIfAbsent(backend, b -> new LongAdder()).increment();
                }
            }
            catch (final Exception ex)
            {
                // a request in flight when the node died counts after the failover too: it is one the failover broke
                final long kill = killNs;
                final boolean broken = after || (kill != 0 && System.nanoTime() >= kill);
                (broken ? stream.failedAfter : stream.failedBefore).incrementAndGet();
                if (broken)
                {
                    stream.lastFailureAfterKillNs = System.nanoTime();
                }
                stream.okSinceFailure.set(0);
                final String reason = reason(ex);
                stream.lastError = reason;
                stream.errors.computeIfAbsent(reason, r -> new LongAdder()).increment();
            }
            next += intervalNs;
            final long now = System.nanoTime();
            if (next < now)
            {
                next = now;
            }
            else
            {
                LockSupport.parkNanos(next - now);
            }
        }
    }

    static String reason(final Throwable ex)
    {
        Throwable cause = ex;
        while (cause.getCause() != null && cause.getMessage() == null)
        {
            cause = cause.getCause();
        }
        final String message = cause.getMessage();
        final String name = cause.getClass().getSimpleName();
        return message == null ? name : name + ": " + message;
    }
}
