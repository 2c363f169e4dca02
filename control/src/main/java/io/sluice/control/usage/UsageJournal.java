package io.sluice.control.usage;

import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The usage journal, {@code <stateDir>/usage}: one Chronicle Queue record per load balancer per minute with the
 * outbound (LB to client: what is billed) and inbound bytes and packets of that minute, and the HTTP requests its L7
 * listeners served. Records are never deleted by
 * sluice: they are billing data, kept until the operator archives the daily cycle files.
 */
public final class UsageJournal implements AutoCloseable
{
    /**
     * One minute of one load balancer.
     *
     * @param loadBalancer  its name.
     * @param minuteStartMs start of the minute, epoch ms.
     * @param bytesOut      bytes sent to clients (IP length).
     * @param packetsOut    packets sent to clients.
     * @param bytesIn       bytes received from clients.
     * @param packetsIn     packets received from clients.
     * @param requests      requests L7 listeners received (0 for a load balancer with L4 listeners only).
     */
    public record Record(String loadBalancer, long minuteStartMs, long bytesOut, long packetsOut, long bytesIn, long packetsIn,
        long requests)
    {
        /** A record without L7 requests. */
        public Record(final String loadBalancer, final long minuteStartMs, final long bytesOut, final long packetsOut,
            final long bytesIn, final long packetsIn)
        {
            this(loadBalancer, minuteStartMs, bytesOut, packetsOut, bytesIn, packetsIn, 0);
        }
    }

    private final SingleChronicleQueue queue;

    private UsageJournal(final SingleChronicleQueue queue)
    {
        this.queue = queue;
    }

    public static UsageJournal open(final Path dir, final TimeProvider timeProvider)
    {
        try
        {
            Files.createDirectories(dir);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create usage journal " + dir + ": " + ex.getMessage(), ex);
        }
        final SingleChronicleQueueBuilder builder = SingleChronicleQueueBuilder.binary(dir).rollCycle(RollCycles.FAST_DAILY);
        if (timeProvider != null)
        {
            builder.timeProvider(timeProvider);
        }
        return new UsageJournal(builder.build());
    }

    public synchronized void append(final Record record)
    {
        try (ExcerptAppender appender = queue.createAppender(); DocumentContext dc = appender.writingDocument())
        {
            dc.wire().write("lb").text(record.loadBalancer())
                .write("minute").int64(record.minuteStartMs())
                .write("bytesOut").int64(record.bytesOut())
                .write("packetsOut").int64(record.packetsOut())
                .write("bytesIn").int64(record.bytesIn())
                .write("packetsIn").int64(record.packetsIn())
                .write("requests").int64(record.requests());
        }
    }

    /** Records whose minute starts in [sinceMs, untilMs), oldest first. */
    public synchronized List<Record> between(final long sinceMs, final long untilMs)
    {
        final List<Record> out = new ArrayList<>();
        try (ExcerptTailer tailer = queue.createTailer())
        {
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        break;
                    }
                    final var wire = dc.wire();
                    final Record record = new Record(wire.read("lb").text(), wire.read("minute").int64(), wire.read("bytesOut").int64(),
                        wire.read("packetsOut").int64(), wire.read("bytesIn").int64(), wire.read("packetsIn").int64(),
                        // journals written before L7 metering have no such field: it reads as 0
                        wire.read("requests").int64());
                    if (record.minuteStartMs() >= sinceMs && record.minuteStartMs() < untilMs)
                    {
                        out.add(record);
                    }
                }
            }
        }
        return out;
    }

    @Override
    public synchronized void close()
    {
        queue.close();
    }
}
