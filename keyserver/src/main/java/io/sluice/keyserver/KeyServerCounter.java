package io.sluice.keyserver;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * Counters of the key server and its client library, type ids 500–599 (stable: `sluice stat` and dashboards use them).
 * Errors answered to the client are {@code .error.}; requests dropped without an answer are {@code .drop.}.
 */
public enum KeyServerCounter
{
    REQUESTS(500, "keyserver.requests"),
    SIGN_OPS(501, "keyserver.ops.sign"),
    DECRYPT_OPS(502, "keyserver.ops.decrypt"),
    GET_CHAIN_OPS(503, "keyserver.ops.get_chain"),
    TICKET_KEY_OPS(504, "keyserver.ops.ticket_keys"),
    ERR_UNKNOWN_KEY(505, "keyserver.error.unknown_key"),
    ERR_BAD_LENGTH(506, "keyserver.error.bad_length"),
    ERR_BAD_OPERATION(507, "keyserver.error.bad_operation"),
    ERR_UNSUPPORTED_SCHEME(508, "keyserver.error.unsupported_scheme"),
    ERR_CRYPTO_FAILED(509, "keyserver.error.crypto_failed"),
    ERR_UNKNOWN_NAME(510, "keyserver.error.unknown_name"),
    ERR_BAD_CLIENT_SLOT(511, "keyserver.drop.bad_client_slot"),
    RESPONSE_RING_FULL(512, "keyserver.drop.response_ring_full"),
    REQUEST_RING_UNBLOCKED(513, "keyserver.request_ring.unblocked"),
    CLIENTS_RECLAIMED(514, "keyserver.clients.reclaimed"),
    CLIENTS_CONNECTED(515, "keyserver.clients.connected"),
    ENTRIES_LOADED(516, "keyserver.entries.loaded"),
    ENTRY_LOAD_FAILURES(517, "keyserver.entries.load_failures"),
    WORKER_QUEUE_FULL(518, "keyserver.drop.worker_queue_full"),
    /** One counter of this type per loaded key, labelled with the entry name. */
    KEY_OPS(520, "keyserver.key.ops"),

    CLIENT_REQUESTS(540, "keyserver_client.requests"),
    CLIENT_SERVER_DOWN_ERRORS(541, "keyserver_client.error.server_down"),
    CLIENT_SERVER_DEATHS(542, "keyserver_client.server_deaths"),
    CLIENT_RECONNECTS(543, "keyserver_client.reconnects"),
    CLIENT_ERROR_RESPONSES(544, "keyserver_client.error.responses"),
    CLIENT_RING_FULL(545, "keyserver_client.error.request_ring_full"),
    CLIENT_TIMEOUTS(546, "keyserver_client.error.timeout"),
    CLIENT_HANDSHAKE_KEY_FAILURES(547, "keyserver_client.tls.key_op_failures"),
    CLIENT_HANDSHAKE_ALERTS(548, "keyserver_client.tls.alerts_sent");

    private final int typeId;
    private final String label;

    KeyServerCounter(final int typeId, final String label)
    {
        this.typeId = typeId;
        this.label = label;
    }

    public int typeId()
    {
        return typeId;
    }

    public String label()
    {
        return label;
    }

    /**
     * @param counters where to allocate.
     * @return a new counter of this type.
     */
    public AtomicCounter allocate(final CountersManager counters)
    {
        return counters.newCounter(label, typeId);
    }

    /**
     * @param counters where to allocate.
     * @param suffix appended to the label after a dot (a key name).
     * @return a new counter of this type.
     */
    public AtomicCounter allocate(final CountersManager counters, final String suffix)
    {
        return counters.newCounter(label + "." + suffix, typeId);
    }
}
