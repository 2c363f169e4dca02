package io.sluice.fastpath.lb;

/**
 * Picks a backend for a new flow. One instance per forwarder per listener generation: it may keep state
 * (round-robin cursor, smooth-WRR weights) without synchronisation.
 */
public interface Scheduler
{
    int NONE = -1;

    /**
     * @param flowHash        hash of the client 5-tuple (fixed seed: the same on every node).
     * @param sourceHash      hash of the client address.
     * @param activeByBackend this forwarder's active sessions per backend id.
     * @return index into the listener's backends, or {@link #NONE} when no backend is available.
     */
    int select(long flowHash, long sourceHash, int[] activeByBackend);

    /**
     * The backend {@link #select} would return now with the same arguments, without changing any state (the round-robin
     * cursor, smooth-WRR weights): the forwarder uses it to start the SNAT reply-key probe's memory load for a likely
     * new flow before it knows the flow is new (docs/fastpath.md, "Numbers", session 7).
     */
    int peek(long flowHash, long sourceHash, int[] activeByBackend);

    /**
     * {@link #select} when {@link #peek} just returned {@code peeked} for the same arguments and nothing changed since:
     * the same result and the same state change, without choosing again.
     */
    int take(int peeked, long flowHash, long sourceHash, int[] activeByBackend);

    /** A scheduler whose choice changes no state (wlc, sh, Maglev): peeking is selecting and taking is free. */
    interface Stateless extends Scheduler
    {
        @Override
        default int peek(final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            return select(flowHash, sourceHash, activeByBackend);
        }

        @Override
        default int take(final int peeked, final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            return peeked;
        }
    }
}
