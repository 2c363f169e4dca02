package io.sluice.keyserver.ipc;

import org.agrona.BitUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * Layout of the key server's shared-memory file ({@code keyserver.shm} under --shm). The server creates it (writing it
 * to a temp name and renaming, so a client never maps a half-built file), clients map it read-write.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "SLKSIPC\0" (8 bytes)                   |  0
 *  +---------------------------------------------------------------+
 *  |                         Version                               |  8
 *  +---------------------------------------------------------------+
 *  |                  Request Ring Capacity                        | 12
 *  +---------------------------------------------------------------+
 *  |                  Response Ring Capacity                       | 16
 *  +---------------------------------------------------------------+
 *  |                       Max Clients                             | 20
 *  +---------------------------------------------------------------+
 *  |                   Max Payload Length                          | 24
 *  +---------------------------------------------------------------+
 *  |                   Reserved (4 bytes)                          | 28
 *  +---------------------------------------------------------------+
 *  |                     Server PID (8 bytes)                      | 32
 *  +---------------------------------------------------------------+
 *  |                 Server Instance Id (8 bytes)                  | 40
 *  +---------------------------------------------------------------+
 *  |            ... pad to 128 (two cache lines) ...               |
 *  +---------------------------------------------------------------+
 *  |          Server Heartbeat (epoch ms, 8 bytes) at 128          |  own 128-byte line, written every heartbeat
 *  +---------------------------------------------------------------+
 *  |   Request signal at 256: sequence (4), sleepers (4)           |  own 128-byte line, see ShmSignal
 *  +---------------------------------------------------------------+
 *  |   Request ring: Agrona ManyToOneRingBuffer at 384             |
 *  |   (capacity + RingBufferDescriptor.TRAILER_LENGTH)            |
 *  +---------------------------------------------------------------+
 *  |   Client slots: Max Clients x 128 bytes                       |
 *  |     0 owner (8: 0 = free, else client token), 8 pid (8),      |
 *  |     16 heartbeat epoch ms (8), 24 instance id claimed (8),    |
 *  |     64 response signal: sequence (4), sleepers (4)            |
 *  +---------------------------------------------------------------+
 *  |   Response rings: Max Clients x (capacity + TRAILER_LENGTH),  |
 *  |   one ManyToOneRingBuffer per slot (workers produce,          |
 *  |   the slot's client consumes)                                 |
 *  +---------------------------------------------------------------+
 * </pre>
 * Every section starts on a 128-byte boundary (two cache lines, against adjacent-line prefetch false sharing).
 * Version 2 added the signals (futex words: producers wake a consumer in the other process, {@link ShmSignal}) and
 * moved the request ring from 256 to 384.
 */
public final class KeyServerDescriptor
{
    public static final String FILE_NAME = "keyserver.shm";
    public static final long MAGIC = 0x0043504953_4B4C53L; // "SLKSIPC\0" read little endian
    public static final int VERSION = 2;
    public static final int ALIGNMENT = 128;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 8;
    public static final int REQUEST_CAPACITY_OFFSET = 12;
    public static final int RESPONSE_CAPACITY_OFFSET = 16;
    public static final int MAX_CLIENTS_OFFSET = 20;
    public static final int MAX_PAYLOAD_OFFSET = 24;
    public static final int SERVER_PID_OFFSET = 32;
    public static final int INSTANCE_ID_OFFSET = 40;
    public static final int SERVER_HEARTBEAT_OFFSET = 128;
    public static final int REQUEST_SIGNAL_OFFSET = 256;
    public static final int REQUEST_RING_OFFSET = 384;

    public static final int SLOT_LENGTH = 128;
    public static final int SLOT_OWNER_OFFSET = 0;
    public static final int SLOT_PID_OFFSET = 8;
    public static final int SLOT_HEARTBEAT_OFFSET = 16;
    public static final int SLOT_INSTANCE_OFFSET = 24;
    /** The slot's response-ring signal, on the slot's second cache line (away from the heartbeat). */
    public static final int SLOT_SIGNAL_OFFSET = 64;

    private KeyServerDescriptor()
    {
    }

    /** Sizes that fix the layout; validated once. */
    public record Layout(int requestRingCapacity, int responseRingCapacity, int maxClients, int maxPayloadLength)
    {
        public Layout
        {
            if (!BitUtil.isPowerOfTwo(requestRingCapacity) || requestRingCapacity < 4096)
            {
                throw new IllegalArgumentException("requestRingCapacity " + requestRingCapacity + " is not a power of two >= 4096");
            }
            if (!BitUtil.isPowerOfTwo(responseRingCapacity) || responseRingCapacity < 4096)
            {
                throw new IllegalArgumentException("responseRingCapacity " + responseRingCapacity + " is not a power of two >= 4096");
            }
            if (maxClients < 1 || maxClients > 1024)
            {
                throw new IllegalArgumentException("maxClients " + maxClients + " is not in 1..1024");
            }
            // Agrona rings cap a record at capacity / 8
            final int maxRecord = Math.min(requestRingCapacity, responseRingCapacity) / 8;
            if (maxPayloadLength < 512 || maxPayloadLength + RequestFlyweight.HEADER_LENGTH > maxRecord)
            {
                throw new IllegalArgumentException("maxPayloadLength " + maxPayloadLength + " is not in 512.."
                    + (maxRecord - RequestFlyweight.HEADER_LENGTH));
            }
        }

        public int slotsOffset()
        {
            return REQUEST_RING_OFFSET + BitUtil.align(requestRingCapacity + RingBufferDescriptor.TRAILER_LENGTH, ALIGNMENT);
        }

        public int slotOffset(final int slot)
        {
            return slotsOffset() + slot * SLOT_LENGTH;
        }

        public int responseRingsOffset()
        {
            return slotsOffset() + BitUtil.align(maxClients * SLOT_LENGTH, ALIGNMENT);
        }

        public int responseRingLength()
        {
            return BitUtil.align(responseRingCapacity + RingBufferDescriptor.TRAILER_LENGTH, ALIGNMENT);
        }

        public int responseRingOffset(final int slot)
        {
            return responseRingsOffset() + slot * responseRingLength();
        }

        public int fileLength()
        {
            return responseRingsOffset() + maxClients * responseRingLength();
        }

        /**
         * Write the header fields (all but the magic, which {@link #publish} writes last).
         *
         * @param buffer the mapped file.
         * @param pid server pid.
         * @param instanceId random id of this server run.
         */
        public void writeHeader(final AtomicBuffer buffer, final long pid, final long instanceId)
        {
            buffer.putInt(VERSION_OFFSET, VERSION);
            buffer.putInt(REQUEST_CAPACITY_OFFSET, requestRingCapacity);
            buffer.putInt(RESPONSE_CAPACITY_OFFSET, responseRingCapacity);
            buffer.putInt(MAX_CLIENTS_OFFSET, maxClients);
            buffer.putInt(MAX_PAYLOAD_OFFSET, maxPayloadLength);
            buffer.putLong(SERVER_PID_OFFSET, pid);
            buffer.putLong(INSTANCE_ID_OFFSET, instanceId);
        }

        public static void publish(final AtomicBuffer buffer)
        {
            buffer.putLongRelease(MAGIC_OFFSET, MAGIC);
        }

        public UnsafeBuffer requestRing(final AtomicBuffer file)
        {
            return new UnsafeBuffer(file, REQUEST_RING_OFFSET, requestRingCapacity + RingBufferDescriptor.TRAILER_LENGTH);
        }

        /** @return the request ring's signal (clients produce, workers sleep on it). */
        public ShmSignal requestSignal(final AtomicBuffer file)
        {
            return new ShmSignal(file, REQUEST_SIGNAL_OFFSET);
        }

        /** @return a slot's response-ring signal (workers produce, the slot's client poller sleeps on it). */
        public ShmSignal responseSignal(final AtomicBuffer file, final int slot)
        {
            return new ShmSignal(file, slotOffset(slot) + SLOT_SIGNAL_OFFSET);
        }

        public UnsafeBuffer responseRing(final AtomicBuffer file, final int slot)
        {
            return new UnsafeBuffer(file, responseRingOffset(slot), responseRingCapacity + RingBufferDescriptor.TRAILER_LENGTH);
        }
    }

    /**
     * Read and check the header of a mapped file.
     *
     * @param buffer the mapped file.
     * @param fileLength its length.
     * @return the layout it declares.
     * @throws IllegalStateException naming the mismatch (magic, version or length).
     */
    public static Layout check(final AtomicBuffer buffer, final long fileLength)
    {
        if (fileLength < REQUEST_RING_OFFSET)
        {
            throw new IllegalStateException("key server file is " + fileLength + " bytes, shorter than its header");
        }
        final long magic = buffer.getLongAcquire(MAGIC_OFFSET);
        if (magic != MAGIC)
        {
            throw new IllegalStateException("key server file has magic " + Long.toHexString(magic) + " (not published yet?)");
        }
        final int version = buffer.getInt(VERSION_OFFSET);
        if (version != VERSION)
        {
            throw new IllegalStateException("key server file version " + version + ", this client speaks " + VERSION);
        }
        final Layout layout = new Layout(buffer.getInt(REQUEST_CAPACITY_OFFSET), buffer.getInt(RESPONSE_CAPACITY_OFFSET),
            buffer.getInt(MAX_CLIENTS_OFFSET), buffer.getInt(MAX_PAYLOAD_OFFSET));
        if (layout.fileLength() != fileLength)
        {
            throw new IllegalStateException("key server file is " + fileLength + " bytes, its header says " + layout.fileLength());
        }
        return layout;
    }
}
