package io.sluice.fastpath;

/**
 * How a forwarder that handed a frame to another forwarder makes sure the owner sees it soon: the owner may be asleep in
 * its idle strategy (poll(2) on its own sockets, up to the profile's max park), and a hand-off ring signals no socket.
 * Called on the handing forwarder's thread after each successful hand-off, so it must be cheap when the owner is awake.
 */
@FunctionalInterface
public interface HandoffWakeup
{
    /** For owners that never sleep (busy-spinning profiles) or tests. */
    HandoffWakeup NONE = () -> false;

    /** @return true when the owner was asleep and this call woke it (counted as {@code fastpath.handoff.wakeups}). */
    boolean wake();
}
