package io.sluice.keyserver.server;

/**
 * A private-key operation copied out of the request ring by the worker that will run it. One per worker, reused, so
 * nothing is allocated per request; {@code entry != null} while it holds an operation.
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
