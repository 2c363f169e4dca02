package io.sluice.keyserver.client;

import io.sluice.keyserver.ipc.Status;

/** A key-server operation failed; {@link #status()} is one of {@link Status}. */
public final class KeyServerException extends Exception
{
    private final int status;

    public KeyServerException(final int status, final String detail)
    {
        super(Status.describe(status) + (detail == null ? "" : ": " + detail), null, false, false);
        this.status = status;
    }

    public int status()
    {
        return status;
    }
}
