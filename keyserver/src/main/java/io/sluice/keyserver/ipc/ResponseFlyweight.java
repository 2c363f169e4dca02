package io.sluice.keyserver.ipc;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A response record in a client's response ring (message type id {@link #MSG_TYPE_ID}). Little endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    Correlation Id (8 bytes)                   |  0
 *  +---------------------------------------------------------------+
 *  |                          Status                               |  8
 *  +---------------------------------------------------------------+
 *  |                       Payload Length                          | 12
 *  +---------------------------------------------------------------+
 *  |                         Payload ...                           | 16
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class ResponseFlyweight
{
    public static final int MSG_TYPE_ID = 1;
    public static final int CORRELATION_ID_OFFSET = 0;
    public static final int STATUS_OFFSET = 8;
    public static final int PAYLOAD_LENGTH_OFFSET = 12;
    public static final int HEADER_LENGTH = 16;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutable;
    private int offset;

    public ResponseFlyweight wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.mutable = buffer instanceof MutableDirectBuffer m ? m : null;
        this.offset = offset;
        return this;
    }

    public long correlationId()
    {
        return buffer.getLong(offset + CORRELATION_ID_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public ResponseFlyweight correlationId(final long v)
    {
        mutable.putLong(offset + CORRELATION_ID_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int status()
    {
        return buffer.getInt(offset + STATUS_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public ResponseFlyweight status(final int v)
    {
        mutable.putInt(offset + STATUS_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int payloadLength()
    {
        return buffer.getInt(offset + PAYLOAD_LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public ResponseFlyweight payloadLength(final int v)
    {
        mutable.putInt(offset + PAYLOAD_LENGTH_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int payloadOffset()
    {
        return offset + HEADER_LENGTH;
    }
}
