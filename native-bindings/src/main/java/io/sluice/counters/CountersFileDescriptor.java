package io.sluice.counters;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import static org.agrona.BitUtil.CACHE_LINE_LENGTH;
import static org.agrona.BitUtil.SIZE_OF_INT;
import static org.agrona.BitUtil.SIZE_OF_LONG;
import static org.agrona.BitUtil.align;

/**
 * Layout of the node's memory-mapped counters file, {@code <stateDir>/counters}, which {@code sluice stat} reads live
 * from another process.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                        Magic 'SLCC'                           |  0
 *  +---------------------------------------------------------------+
 *  |                  Version (written last, ordered)              |  4
 *  +---------------------------------------------------------------+
 *  |                    Metadata buffer length                     |  8
 *  +---------------------------------------------------------------+
 *  |                     Values buffer length                      | 12
 *  +---------------------------------------------------------------+
 *  |                       Owner pid (64)                          | 16
 *  +---------------------------------------------------------------+
 *  |                Start timestamp, epoch ms (64)                 | 24
 *  +---------------------------------------------------------------+
 *  |         Heartbeat, epoch ms, updated every second (64)        | 32
 *  +---------------------------------------------------------------+
 *  |                 Node name, length-prefixed ASCII              | 40
 *  |                          (up to 84 bytes)                     |
 *  +---------------------------------------------------------------+  128 (two cache lines)
 *  |                  Metadata buffer (Agrona layout)              |
 *  +---------------------------------------------------------------+
 *  |                   Values buffer (Agrona layout)               |
 *  +---------------------------------------------------------------+
 * </pre>
 * Both buffers follow {@link CountersReader}: {@link CountersReader#METADATA_LENGTH} bytes of metadata per
 * {@link CountersReader#COUNTER_LENGTH} bytes of values. Sections start on cache-line boundaries.
 */
public final class CountersFileDescriptor
{
    /** "SLCC" in little-endian ASCII. */
    public static final int MAGIC = 0x43434c53;
    /** Bumped on any incompatible layout change; readers refuse other versions. */
    public static final int VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = MAGIC_OFFSET + SIZE_OF_INT;
    public static final int METADATA_LENGTH_OFFSET = VERSION_OFFSET + SIZE_OF_INT;
    public static final int VALUES_LENGTH_OFFSET = METADATA_LENGTH_OFFSET + SIZE_OF_INT;
    public static final int PID_OFFSET = VALUES_LENGTH_OFFSET + SIZE_OF_INT;
    public static final int START_TIMESTAMP_OFFSET = PID_OFFSET + SIZE_OF_LONG;
    public static final int HEARTBEAT_OFFSET = START_TIMESTAMP_OFFSET + SIZE_OF_LONG;
    public static final int NODE_NAME_OFFSET = HEARTBEAT_OFFSET + SIZE_OF_LONG;
    public static final int HEADER_LENGTH = CACHE_LINE_LENGTH * 2;
    public static final int MAX_NODE_NAME_LENGTH = HEADER_LENGTH - NODE_NAME_OFFSET - SIZE_OF_INT;

    /** Counters at the least and the most: the upper bound keeps the file under 100 MiB. */
    public static final int MIN_COUNTERS = 64;
    public static final int MAX_COUNTERS = 1 << 18;

    private CountersFileDescriptor()
    {
    }

    public static int valuesLength(final int maxCounters)
    {
        return align(maxCounters * CountersReader.COUNTER_LENGTH, CACHE_LINE_LENGTH);
    }

    public static int metadataLength(final int maxCounters)
    {
        return align(maxCounters * CountersReader.METADATA_LENGTH, CACHE_LINE_LENGTH);
    }

    public static long fileLength(final int maxCounters)
    {
        return (long)HEADER_LENGTH + metadataLength(maxCounters) + valuesLength(maxCounters);
    }

    public static int metadataOffset()
    {
        return HEADER_LENGTH;
    }

    public static int valuesOffset(final int metadataLength)
    {
        return HEADER_LENGTH + metadataLength;
    }

    /**
     * Checks the header of a mapped file and returns null when it is usable, else the reason it is not.
     *
     * @param header    the first {@link #HEADER_LENGTH} bytes, or more.
     * @param fileLength the length of the whole mapped file.
     * @return null when valid, else a sentence naming what is wrong.
     */
    public static String validate(final AtomicBuffer header, final long fileLength)
    {
        if (fileLength < HEADER_LENGTH)
        {
            return "file is " + fileLength + " bytes, shorter than the " + HEADER_LENGTH + "-byte header";
        }
        final int magic = header.getInt(MAGIC_OFFSET);
        if (magic != MAGIC)
        {
            return "not a sluice counters file (magic 0x" + Integer.toHexString(magic) + ")";
        }
        final int version = header.getIntVolatile(VERSION_OFFSET);
        if (version == 0)
        {
            return "the node is still initialising the file";
        }
        if (version != VERSION)
        {
            return "counters file version " + version + ", this build reads version " + VERSION;
        }
        final int metadataLength = header.getInt(METADATA_LENGTH_OFFSET);
        final int valuesLength = header.getInt(VALUES_LENGTH_OFFSET);
        if (metadataLength <= 0 || valuesLength <= 0 || metadataLength != valuesLength / CountersReader.COUNTER_LENGTH
            * CountersReader.METADATA_LENGTH)
        {
            return "inconsistent section lengths (metadata " + metadataLength + ", values " + valuesLength + ")";
        }
        if ((long)HEADER_LENGTH + metadataLength + valuesLength > fileLength)
        {
            return "file is " + fileLength + " bytes, the header promises " + (HEADER_LENGTH + metadataLength + valuesLength);
        }
        return null;
    }

    public static String nodeName(final UnsafeBuffer header)
    {
        final int length = header.getInt(NODE_NAME_OFFSET);
        if (length <= 0 || length > MAX_NODE_NAME_LENGTH)
        {
            return "";
        }
        return header.getStringWithoutLengthAscii(NODE_NAME_OFFSET + SIZE_OF_INT, length);
    }
}
