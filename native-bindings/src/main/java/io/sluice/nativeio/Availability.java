package io.sluice.nativeio;

/**
 * Whether a kernel facility can be used here, probed once, and why not when it cannot.
 *
 * @param available true when the facility worked when probed.
 * @param cause     null when available, else a sentence naming the reason (not root, sysctl, kernel too old ...).
 */
public record Availability(boolean available, String cause)
{
    public static final Availability AVAILABLE = new Availability(true, null);

    public static Availability unavailable(final String cause)
    {
        return new Availability(false, cause);
    }

    /** Throw with the cause when unavailable. */
    public void ensure(final String facility)
    {
        if (!available)
        {
            throw new UnsupportedOperationException(facility + " is not available: " + cause);
        }
    }
}
