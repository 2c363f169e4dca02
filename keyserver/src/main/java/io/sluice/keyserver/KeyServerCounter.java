package io.sluice.keyserver;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/** Counters of the key server and its client library, type ids 500–599 (stable: `sluice stat` and dashboards use them). */
public enum KeyServerCounter
{
    REQUESTS(500, "keyserver requests"),
    SIGN_OPS(501, "keyserver sign ops"),
    DECRYPT_OPS(502, "keyserver decrypt ops"),
    GET_CHAIN_OPS(503, "keyserver get-chain ops"),
    TICKET_KEY_OPS(504, "keyserver ticket-key ops"),
    ERR_UNKNOWN_KEY(505, "keyserver error unknown key"),
    ERR_BAD_LENGTH(506, "keyserver error bad length"),
    ERR_BAD_OPERATION(507, "keyserver error bad operation"),
    ERR_UNSUPPORTED_SCHEME(508, "keyserver error unsupported scheme"),
    ERR_CRYPTO_FAILED(509, "keyserver error crypto failed"),
    ERR_UNKNOWN_NAME(510, "keyserver error unknown name"),
    ERR_BAD_CLIENT_SLOT(511, "keyserver drop bad client slot"),
    RESPONSE_RING_FULL(512, "keyserver drop response ring full"),
    REQUEST_RING_UNBLOCKED(513, "keyserver request ring unblocked"),
    CLIENTS_RECLAIMED(514, "keyserver clients reclaimed"),
    CLIENTS_CONNECTED(515, "keyserver clients connected"),
    ENTRIES_LOADED(516, "keyserver entries loaded"),
    ENTRY_LOAD_FAILURES(517, "keyserver entry load failures"),
    WORKER_QUEUE_FULL(518, "keyserver drop worker queue full"),
    /** One counter of this type per loaded key, labelled with the entry name. */
    KEY_OPS(520, "keyserver key ops"),

    CLIENT_REQUESTS(540, "keyserver-client requests"),
    CLIENT_SERVER_DOWN_ERRORS(541, "keyserver-client error server down"),
    CLIENT_SERVER_DEATHS(542, "keyserver-client server deaths detected"),
    CLIENT_RECONNECTS(543, "keyserver-client reconnects"),
    CLIENT_ERROR_RESPONSES(544, "keyserver-client error responses"),
    CLIENT_RING_FULL(545, "keyserver-client error request ring full"),
    CLIENT_TIMEOUTS(546, "keyserver-client error timeout"),
    CLIENT_HANDSHAKE_KEY_FAILURES(547, "keyserver-client tls key op failures"),
    CLIENT_HANDSHAKE_ALERTS(548, "keyserver-client tls alerts for key op failures");

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
     * @param suffix appended to the label (a key name).
     * @return a new counter of this type.
     */
    public AtomicCounter allocate(final CountersManager counters, final String suffix)
    {
        return counters.newCounter(label + " " + suffix, typeId);
    }
}
