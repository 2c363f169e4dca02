package io.sluice.control.journal;

import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import net.openhft.chronicle.wire.Wire;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The config journal: every applied change as one Chronicle Queue record in {@code <stateDir>/journal}: who, when,
 * what, the resulting version, and the whole resulting {@code loadBalancers} section. Because each record is a full
 * snapshot, a restart needs only the last valid record, and compaction is simply deleting old roll-cycle files (the
 * newest {@link #retainedCycles} are kept). Each record carries a CRC32C of its fields, so a torn or corrupted record
 * is detected on replay and skipped with a warning.
 */
public final class ConfigJournal implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(ConfigJournal.class.getName());
    /** Record format; a reader skips records of other formats with a warning. */
    static final int FORMAT = 1;
    public static final int DEFAULT_RETAINED_CYCLES = 7;

    /**
     * One journal record.
     *
     * @param version     the config version this change produced (1, 2, ...).
     * @param timestampMs when it was applied, epoch ms.
     * @param user        who applied it (API token id, "file", "node").
     * @param action      what was done, e.g. {@code PUT /v1/loadbalancers/web}.
     * @param summary     a one-line description of the change.
     * @param configJson  the whole resulting config ({@code apiVersion} + {@code loadBalancers}) as JSON.
     */
    public record Entry(long version, long timestampMs, String user, String action, String summary, String configJson)
    {
        int crc()
        {
            final CRC32C crc = new CRC32C();
            crc.update(longBytes(version));
            crc.update(longBytes(timestampMs));
            for (final String text : new String[] {user, action, summary, configJson})
            {
                crc.update(text.getBytes(StandardCharsets.UTF_8));
                crc.update(0);
            }
            return (int)crc.getValue();
        }

        private static byte[] longBytes(final long value)
        {
            final byte[] bytes = new byte[8];
            for (int i = 0; i < 8; i++)
            {
                bytes[i] = (byte)(value >>> (i * 8));
            }
            return bytes;
        }
    }

    private final Path dir;
    private final SingleChronicleQueue queue;
    private final int retainedCycles;
    private int skipped;

    private ConfigJournal(final Path dir, final SingleChronicleQueue queue, final int retainedCycles)
    {
        this.dir = dir;
        this.queue = queue;
        this.retainedCycles = retainedCycles;
    }

    public static ConfigJournal open(final Path dir)
    {
        return open(dir, DEFAULT_RETAINED_CYCLES, null);
    }

    /**
     * Opens (creating when missing) the journal in {@code dir}.
     *
     * @param dir            the journal directory.
     * @param retainedCycles daily roll-cycle files to keep, at least 1.
     * @param timeProvider   the clock, null for the system one (tests move time to roll cycles).
     * @return the journal.
     */
    public static ConfigJournal open(final Path dir, final int retainedCycles, final TimeProvider timeProvider)
    {
        try
        {
            Files.createDirectories(dir);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create journal directory " + dir + ": " + ex.getMessage(), ex);
        }
        final SingleChronicleQueueBuilder builder = SingleChronicleQueueBuilder.binary(dir).rollCycle(RollCycles.FAST_DAILY);
        if (timeProvider != null)
        {
            builder.timeProvider(timeProvider);
        }
        return new ConfigJournal(dir, builder.build(), Math.max(1, retainedCycles));
    }

    /** Appends one record and drops roll-cycle files beyond the retention. */
    public synchronized void append(final Entry entry)
    {
        // Chronicle appenders are confined to one thread; changes come from API threads, so one appender per append.
        try (ExcerptAppender appender = queue.createAppender(); DocumentContext dc = appender.writingDocument())
        {
            final Wire wire = dc.wire();
            wire.write("format").int32(FORMAT)
                .write("version").int64(entry.version())
                .write("timestampMs").int64(entry.timestampMs())
                .write("user").text(entry.user())
                .write("action").text(entry.action())
                .write("summary").text(entry.summary())
                .write("config").text(entry.configJson())
                .write("crc").int32(entry.crc());
        }
        compact();
    }

    /** Every valid record, oldest first; invalid ones are skipped with a warning (see {@link #skippedRecords()}). */
    public synchronized List<Entry> entries()
    {
        final List<Entry> out = new ArrayList<>();
        skipped = 0;
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
                    final Entry entry = read(dc.wire(), dc.index());
                    if (entry != null)
                    {
                        out.add(entry);
                    }
                }
            }
        }
        return out;
    }

    /** The newest valid record, or null when the journal has none. */
    public Entry latest()
    {
        final List<Entry> all = entries();
        return all.isEmpty() ? null : all.getLast();
    }

    /** Records skipped by the last {@link #entries()} because they were torn, corrupted or of another format. */
    public synchronized int skippedRecords()
    {
        return skipped;
    }

    private Entry read(final Wire wire, final long index)
    {
        try
        {
            final int format = wire.read("format").int32();
            if (format != FORMAT)
            {
                warn(index, "record format " + format + ", this build reads " + FORMAT);
                return null;
            }
            final Entry entry = new Entry(wire.read("version").int64(), wire.read("timestampMs").int64(),
                nonNull(wire.read("user").text()), nonNull(wire.read("action").text()), nonNull(wire.read("summary").text()),
                nonNull(wire.read("config").text()));
            final int crc = wire.read("crc").int32();
            if (crc != entry.crc())
            {
                warn(index, "checksum mismatch (torn or corrupted record)");
                return null;
            }
            return entry;
        }
        catch (final RuntimeException ex)
        {
            warn(index, "unreadable record: " + ex.getMessage());
            return null;
        }
    }

    private void warn(final long index, final String why)
    {
        skipped++;
        LOG.log(System.Logger.Level.WARNING, "config journal " + dir + ": skipping record at index 0x" + Long.toHexString(index)
            + ": " + why);
    }

    private static String nonNull(final String text)
    {
        if (text == null)
        {
            throw new IllegalStateException("missing field");
        }
        return text;
    }

    /** Deletes the oldest roll-cycle files beyond {@link #retainedCycles}; every record is a full snapshot. */
    private void compact()
    {
        final File[] cycles = dir.toFile().listFiles((d, name) -> name.endsWith(".cq4"));
        if (cycles == null || cycles.length <= retainedCycles)
        {
            return;
        }
        Arrays.sort(cycles);
        for (int i = 0; i < cycles.length - retainedCycles; i++)
        {
            if (!cycles[i].delete())
            {
                LOG.log(System.Logger.Level.WARNING, "config journal: could not delete old cycle " + cycles[i]);
            }
        }
        queue.refreshDirectoryListing();
    }

    /** For tests: appends a record whose checksum does not match, as a write torn by a crash would leave. */
    void appendCorrupted(final Entry entry)
    {
        try (ExcerptAppender appender = queue.createAppender(); DocumentContext dc = appender.writingDocument())
        {
            dc.wire().write("format").int32(FORMAT)
                .write("version").int64(entry.version())
                .write("timestampMs").int64(entry.timestampMs())
                .write("user").text(entry.user())
                .write("action").text(entry.action())
                .write("summary").text(entry.summary())
                .write("config").text(entry.configJson().substring(0, entry.configJson().length() / 2))
                .write("crc").int32(entry.crc());
        }
    }

    public Path dir()
    {
        return dir;
    }

    @Override
    public synchronized void close()
    {
        queue.close();
    }
}
