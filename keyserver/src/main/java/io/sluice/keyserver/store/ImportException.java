package io.sluice.keyserver.store;

/** An import was refused; the message says precisely why (it is what the operator sees). */
public final class ImportException extends Exception
{
    public ImportException(final String message)
    {
        super(message);
    }
}
