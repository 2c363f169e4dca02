package io.sluice.l7;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * JSON-lines access log written by its own thread: event loops only offer an entry to a bounded lock-free queue (a full
 * queue drops the entry and counts it, never blocks a loop); the writer formats and writes, parking when idle.
 */
final class AccessLog implements AutoCloseable
{
    /** One finished exchange. */
    record Entry(long epochMillis, String listener, String client, String method, String host, String uri, int status,
        String server, long bytesOut, long durationMicros)
    {
    }

    private static final System.Logger LOGGER = System.getLogger(AccessLog.class.getName());
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final ManyToOneConcurrentArrayQueue<Entry> queue = new ManyToOneConcurrentArrayQueue<>(65_536);
    private final AtomicCounter drops;
    private final BufferedWriter writer;
    private final Thread thread;
    private volatile boolean running = true;

    AccessLog(final Path file, final AtomicCounter drops) throws IOException
    {
        this.drops = drops;
        this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        this.thread = Thread.ofPlatform().name("sluice-l7-access-log").daemon(true).start(this::run);
    }

    void log(final Entry entry)
    {
        if (!queue.offer(entry))
        {
            drops.increment();
        }
    }

    private void run()
    {
        final StringBuilder line = new StringBuilder(256);
        while (running || !queue.isEmpty())
        {
            final Entry entry = queue.poll();
            if (entry == null)
            {
                flush();
                LockSupport.parkNanos(IDLE_PARK_NANOS);
                continue;
            }
            line.setLength(0);
            format(entry, line);
            try
            {
                writer.append(line);
            }
            catch (final IOException ex)
            {
                drops.increment();
            }
        }
        flush();
    }

    private void flush()
    {
        try
        {
            writer.flush();
        }
        catch (final IOException ex)
        {
            LOGGER.log(System.Logger.Level.WARNING, "access log flush failed", ex);
        }
    }

    static void format(final Entry e, final StringBuilder out)
    {
        out.append("{\"ts\":").append(e.epochMillis());
        field(out, "listener", e.listener());
        field(out, "client", e.client());
        field(out, "method", e.method());
        field(out, "host", e.host());
        field(out, "uri", e.uri());
        out.append(",\"status\":").append(e.status());
        field(out, "server", e.server());
        out.append(",\"bytesOut\":").append(e.bytesOut());
        out.append(",\"durationMicros\":").append(e.durationMicros()).append("}\n");
    }

    private static void field(final StringBuilder out, final String name, final String value)
    {
        out.append(",\"").append(name).append("\":");
        if (value == null)
        {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            if (c == '"' || c == '\\')
            {
                out.append('\\').append(c);
            }
            else if (c < 0x20)
            {
                out.append(String.format("\\u%04x", (int)c));
            }
            else
            {
                out.append(c);
            }
        }
        out.append('"');
    }

    @Override
    public void close()
    {
        running = false;
        LockSupport.unpark(thread);
        try
        {
            thread.join(5_000);
            writer.close();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final IOException ex)
        {
            LOGGER.log(System.Logger.Level.WARNING, "access log close failed", ex);
        }
    }
}
