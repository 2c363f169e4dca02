package io.sluice.counters;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.ConcurrentCountersManager;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static io.sluice.counters.CountersFileDescriptor.HEADER_LENGTH;
import static io.sluice.counters.CountersFileDescriptor.HEARTBEAT_OFFSET;
import static io.sluice.counters.CountersFileDescriptor.MAGIC;
import static io.sluice.counters.CountersFileDescriptor.MAGIC_OFFSET;
import static io.sluice.counters.CountersFileDescriptor.MAX_COUNTERS;
import static io.sluice.counters.CountersFileDescriptor.MAX_NODE_NAME_LENGTH;
import static io.sluice.counters.CountersFileDescriptor.METADATA_LENGTH_OFFSET;
import static io.sluice.counters.CountersFileDescriptor.MIN_COUNTERS;
import static io.sluice.counters.CountersFileDescriptor.NODE_NAME_OFFSET;
import static io.sluice.counters.CountersFileDescriptor.PID_OFFSET;
import static io.sluice.counters.CountersFileDescriptor.START_TIMESTAMP_OFFSET;
import static io.sluice.counters.CountersFileDescriptor.VALUES_LENGTH_OFFSET;
import static io.sluice.counters.CountersFileDescriptor.VERSION;
import static io.sluice.counters.CountersFileDescriptor.VERSION_OFFSET;

/**
 * The node's memory-mapped counters file (layout in {@link CountersFileDescriptor}). The node creates it with
 * {@link #create}; {@code sluice stat} and tests open it with {@link #openForReading} from another process.
 */
public final class CountersFile implements AutoCloseable
{
    public static final String FILE_NAME = "counters";

    private final Path path;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer header;
    private final CountersReader reader;
    private final CountersManager manager;

    private CountersFile(final Path path, final MappedByteBuffer mapped, final boolean writable)
    {
        this.path = path;
        this.mapped = mapped;
        this.header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        final int metadataLength = header.getInt(METADATA_LENGTH_OFFSET);
        final int valuesLength = header.getInt(VALUES_LENGTH_OFFSET);
        final UnsafeBuffer metadata = new UnsafeBuffer(mapped, CountersFileDescriptor.metadataOffset(), metadataLength);
        final UnsafeBuffer values = new UnsafeBuffer(mapped, CountersFileDescriptor.valuesOffset(metadataLength), valuesLength);
        if (writable)
        {
            // Counters are allocated from several threads (conductor, proxy event loops); values are written lock-free.
            this.manager = new ConcurrentCountersManager(metadata, values, StandardCharsets.US_ASCII);
            this.reader = manager;
        }
        else
        {
            this.manager = null;
            this.reader = new CountersReader(metadata, values, StandardCharsets.US_ASCII);
        }
    }

    /**
     * Creates (or replaces) the counters file for a starting node.
     *
     * @param path        where the file lives, normally {@code <stateDir>/counters}.
     * @param maxCounters how many counters it can hold, in {@link CountersFileDescriptor#MIN_COUNTERS}..
     *                    {@link CountersFileDescriptor#MAX_COUNTERS}.
     * @param nodeName    the node's name, shown by {@code sluice stat}.
     * @return the mapped file, writable through {@link #manager()}.
     */
    public static CountersFile create(final Path path, final int maxCounters, final String nodeName)
    {
        if (maxCounters < MIN_COUNTERS || maxCounters > MAX_COUNTERS)
        {
            throw new IllegalArgumentException("maxCounters " + maxCounters + " is not in " + MIN_COUNTERS + ".." + MAX_COUNTERS);
        }
        final long length = CountersFileDescriptor.fileLength(maxCounters);
        try
        {
            // A fresh file each start: readers that mapped the old one see its version word stay as it was and the
            // heartbeat stop, never a half-initialised new layout.
            Files.deleteIfExists(path);
            final MappedByteBuffer mapped;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE))
            {
                channel.truncate(length);
                mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, length);
            }
            final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
            header.putInt(MAGIC_OFFSET, MAGIC);
            header.putInt(METADATA_LENGTH_OFFSET, CountersFileDescriptor.metadataLength(maxCounters));
            header.putInt(VALUES_LENGTH_OFFSET, CountersFileDescriptor.valuesLength(maxCounters));
            header.putLong(PID_OFFSET, ProcessHandle.current().pid());
            final long now = System.currentTimeMillis();
            header.putLong(START_TIMESTAMP_OFFSET, now);
            header.putLong(HEARTBEAT_OFFSET, now);
            final String name = nodeName.length() > MAX_NODE_NAME_LENGTH ? nodeName.substring(0, MAX_NODE_NAME_LENGTH) : nodeName;
            header.putInt(NODE_NAME_OFFSET, name.length());
            header.putStringWithoutLengthAscii(NODE_NAME_OFFSET + Integer.BYTES, name);
            header.putIntVolatile(VERSION_OFFSET, VERSION);
            return new CountersFile(path, mapped, true);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create counters file " + path + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Maps an existing counters file read-only.
     *
     * @param path the file, normally {@code <stateDir>/counters}.
     * @return the mapped file, readable through {@link #reader()}.
     * @throws IllegalStateException naming the reason when the file is missing, not a counters file, of another version
     *                               or truncated.
     */
    public static CountersFile openForReading(final Path path)
    {
        if (!Files.isRegularFile(path))
        {
            throw new IllegalStateException("no counters file at " + path + " (is a node running with this stateDir?)");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ))
        {
            final long length = channel.size();
            final MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, length);
            final String invalid = CountersFileDescriptor.validate(new UnsafeBuffer(mapped), length);
            if (invalid != null)
            {
                throw new IllegalStateException(path + ": " + invalid);
            }
            return new CountersFile(path, mapped, false);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open counters file " + path + ": " + ex.getMessage(), ex);
        }
    }

    public Path path()
    {
        return path;
    }

    /** Allocates and frees counters; null when opened for reading. */
    public CountersManager manager()
    {
        return manager;
    }

    public CountersReader reader()
    {
        return reader;
    }

    public long ownerPid()
    {
        return header.getLong(PID_OFFSET);
    }

    public long startTimestampMs()
    {
        return header.getLong(START_TIMESTAMP_OFFSET);
    }

    public long heartbeatMs()
    {
        return header.getLongVolatile(HEARTBEAT_OFFSET);
    }

    public void heartbeat(final long nowMs)
    {
        header.putLongOrdered(HEARTBEAT_OFFSET, nowMs);
    }

    public String nodeName()
    {
        return CountersFileDescriptor.nodeName(header);
    }

    public AtomicBuffer header()
    {
        return header;
    }

    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
    }
}
