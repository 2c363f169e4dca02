package io.sluice.keyserver.server;

/**
 * A private-key operation handed from the IPC poller to a worker.
 *
 * @param slot client slot to answer on.
 * @param slotToken the slot's owner token when the request came in.
 * @param correlationId the client's id.
 * @param operation sign or decrypt.
 * @param param signature scheme or padding.
 * @param entry the key.
 * @param payload the message or ciphertext.
 */
record CryptoTask(int slot, long slotToken, long correlationId, int operation, int param, KeyRegistry.Loaded entry, byte[] payload)
{
}
