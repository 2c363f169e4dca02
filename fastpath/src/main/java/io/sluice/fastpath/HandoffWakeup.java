package io.sluice.fastpath;

/**
 * How a thread that left work for another thread's agent makes sure it sees it soon: the agent may be asleep in its idle
 * strategy (poll(2) on its own sockets, up to the profile's max park), and a ring write signals no socket. A forwarder
 * calls it after each hand-off to another forwarder, and after each neighbour resolution request (the node's resolver
 * sleeps on a doorbell), so it must be cheap when the other side is awake.
 */
@FunctionalInterface
public interface HandoffWakeup
{
    /** For owners that never sleep (busy-spinning profiles) or tests. */
    HandoffWakeup NONE = () -> false;

    /** @return true when the owner was asleep and this call woke it (counted as {@code fastpath.handoff.wakeups}). */
    boolean wake();
}
