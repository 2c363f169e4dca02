package io.sluice.keyserver.ipc;

/** Response status codes, carried in {@link ResponseFlyweight#status()}. */
public final class Status
{
    public static final int OK = 0;
    public static final int UNKNOWN_KEY = 1;
    public static final int BAD_LENGTH = 2;
    public static final int BAD_OPERATION = 3;
    public static final int UNSUPPORTED_SCHEME = 4;
    public static final int CRYPTO_FAILED = 5;
    public static final int UNKNOWN_NAME = 6;
    /** The key server's worker queue was full. */
    public static final int OVERLOADED = 7;
    /** Client side only: the key server is not running (or stopped heartbeating). */
    public static final int SERVER_DOWN = 100;
    /** Client side only: the request ring had no room. */
    public static final int RING_FULL = 101;
    /** Client side only: no reply within the operation timeout. */
    public static final int TIMEOUT = 102;

    private Status()
    {
    }

    public static String describe(final int status)
    {
        return switch (status)
        {
            case OK -> "ok";
            case UNKNOWN_KEY -> "unknown key";
            case BAD_LENGTH -> "bad length";
            case BAD_OPERATION -> "bad operation";
            case UNSUPPORTED_SCHEME -> "unsupported signature scheme for this key";
            case CRYPTO_FAILED -> "crypto operation failed";
            case UNKNOWN_NAME -> "unknown certificate name";
            case OVERLOADED -> "key server overloaded";
            case SERVER_DOWN -> "key server down";
            case RING_FULL -> "request ring full";
            case TIMEOUT -> "timed out";
            default -> "status " + status;
        };
    }
}
