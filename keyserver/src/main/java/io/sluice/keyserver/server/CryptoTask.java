package io.sluice.keyserver.server;

/**
 * A private-key operation handed from the IPC poller to a worker. Pooled: the poller takes one from the free list,
 * copies the request in, the worker returns it once the reply is written, so the poller allocates nothing per request.
 */
final class CryptoTask
{
    final byte[] payload;
    int payloadLength;
    int slot;
    long slotToken;
    long correlationId;
    int operation;
    int param;
    KeyRegistry.Loaded entry;

    CryptoTask(final int maxPayloadLength)
    {
        this.payload = new byte[maxPayloadLength];
    }

    void clear()
    {
        entry = null;
    }
}
