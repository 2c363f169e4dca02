package io.sluice.keyserver.ipc;

/** Request operations; the value is the record's message type id in the request ring (must be > 0 for Agrona). */
public final class Operation
{
    /** param = TLS SignatureScheme code; payload = the whole message to sign. */
    public static final int SIGN = 1;
    /** param = padding (RsaPadding ordinal); payload = RSA ciphertext. */
    public static final int DECRYPT = 2;
    /** key id ignored; payload = certificate name (UTF-8). Reply: see {@link ChainCodec}. */
    public static final int GET_CHAIN = 3;
    /** key id and payload ignored. Reply: see {@link TicketKeysCodec}. */
    public static final int TICKET_KEYS = 4;
    /** Echoes the payload from the poller: liveness probes and measuring the bare IPC round trip. */
    public static final int PING = 5;

    private Operation()
    {
    }

    public static String name(final int op)
    {
        return switch (op)
        {
            case SIGN -> "sign";
            case DECRYPT -> "decrypt";
            case GET_CHAIN -> "get-chain";
            case TICKET_KEYS -> "ticket-keys";
            case PING -> "ping";
            default -> "op-" + op;
        };
    }
}
