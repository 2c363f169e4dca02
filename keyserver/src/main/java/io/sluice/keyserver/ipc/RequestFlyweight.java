package io.sluice.keyserver.ipc;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A request record in the request ring (the operation is the record's message type id, see {@link Operation}).
 * Little endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    Correlation Id (8 bytes)                   |  0
 *  +---------------------------------------------------------------+
 *  |                         Client Slot                           |  8
 *  +---------------------------------------------------------------+
 *  |              Param (signature scheme / padding)               | 12
 *  +---------------------------------------------------------------+
 *  |          Key Id: SHA-256 of the leaf certificate (32)         | 16
 *  +---------------------------------------------------------------+
 *  |                       Payload Length                          | 48
 *  +---------------------------------------------------------------+
 *  |                       Slot Token (8 bytes)                    | 52
 *  +---------------------------------------------------------------+
 *  |                         Payload ...                           | 60
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class RequestFlyweight
{
    public static final int CORRELATION_ID_OFFSET = 0;
    public static final int CLIENT_SLOT_OFFSET = 8;
    public static final int PARAM_OFFSET = 12;
    public static final int KEY_ID_OFFSET = 16;
    public static final int KEY_ID_LENGTH = 32;
    public static final int PAYLOAD_LENGTH_OFFSET = 48;
    public static final int SLOT_TOKEN_OFFSET = 52;
    public static final int HEADER_LENGTH = 60;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutable;
    private int offset;

    public RequestFlyweight wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.mutable = buffer instanceof MutableDirectBuffer m ? m : null;
        this.offset = offset;
        return this;
    }

    public int offset()
    {
        return offset;
    }

    public long correlationId()
    {
        return buffer.getLong(offset + CORRELATION_ID_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public RequestFlyweight correlationId(final long v)
    {
        mutable.putLong(offset + CORRELATION_ID_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int clientSlot()
    {
        return buffer.getInt(offset + CLIENT_SLOT_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public RequestFlyweight clientSlot(final int v)
    {
        mutable.putInt(offset + CLIENT_SLOT_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int param()
    {
        return buffer.getInt(offset + PARAM_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public RequestFlyweight param(final int v)
    {
        mutable.putInt(offset + PARAM_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public void getKeyId(final byte[] dst)
    {
        buffer.getBytes(offset + KEY_ID_OFFSET, dst, 0, KEY_ID_LENGTH);
    }

    public RequestFlyweight keyId(final byte[] src)
    {
        if (src == null)
        {
            mutable.setMemory(offset + KEY_ID_OFFSET, KEY_ID_LENGTH, (byte)0);
        }
        else
        {
            mutable.putBytes(offset + KEY_ID_OFFSET, src, 0, KEY_ID_LENGTH);
        }
        return this;
    }

    public int payloadLength()
    {
        return buffer.getInt(offset + PAYLOAD_LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public RequestFlyweight payloadLength(final int v)
    {
        mutable.putInt(offset + PAYLOAD_LENGTH_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    /** The owner token of the slot when the request was sent: replies to a reclaimed-and-reused slot are dropped. */
    public long slotToken()
    {
        return buffer.getLong(offset + SLOT_TOKEN_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    public RequestFlyweight slotToken(final long v)
    {
        mutable.putLong(offset + SLOT_TOKEN_OFFSET, v, ByteOrder.LITTLE_ENDIAN);
        return this;
    }

    public int payloadOffset()
    {
        return offset + HEADER_LENGTH;
    }
}
