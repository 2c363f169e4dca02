package io.sluice.l7;

import java.util.concurrent.TimeUnit;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * A per-connection deadline on the channel's event loop with one lazily re-armed task rather than a schedule and a
 * cancel each time the deadline moves: when the task fires it re-arms for whatever is left of the current deadline,
 * lapses when none is set (or the channel is gone), and otherwise runs the expiry. Used by the header clocks (HTTP/1.1
 * and HTTP/2) and the HTTP/2 idle timeout. Event-loop thread only.
 */
final class LazyDeadline
{
    private final Runnable onExpiry;
    private ChannelHandlerContext ctx;
    /** When it expires (the event loop's ticker); 0 while none is set. */
    private long deadlineNanos;
    private ScheduledFuture<?> timer;

    /** @param onExpiry run on the event loop once a set deadline has passed (the deadline is then cleared). */
    LazyDeadline(final Runnable onExpiry)
    {
        this.onExpiry = onExpiry;
    }

    /** The handler's context, from its {@code handlerAdded}: the event loop and channel the deadline lives on. */
    void attach(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
    }

    boolean isSet()
    {
        return deadlineNanos != 0;
    }

    /** Sets the deadline {@code timeoutNanos} from now, replacing any earlier one. */
    void restart(final long timeoutNanos)
    {
        deadlineNanos = ctx.executor().ticker().nanoTime() + timeoutNanos;
        arm(timeoutNanos);
    }

    /** Sets the deadline {@code timeoutNanos} from now unless one is already set (which then stands). */
    void startUnlessSet(final long timeoutNanos)
    {
        if (deadlineNanos == 0)
        {
            restart(timeoutNanos);
        }
    }

    /** No deadline until the next start; a pending task lapses when it fires. */
    void clear()
    {
        deadlineNanos = 0;
    }

    /** Clears the deadline and cancels the task (the channel is gone or the handler leaves). */
    void cancel()
    {
        deadlineNanos = 0;
        if (timer != null)
        {
            timer.cancel(false);
            timer = null;
        }
    }

    private void arm(final long delayNanos)
    {
        if (timer == null && ctx.channel().isActive())
        {
            timer = ctx.executor().schedule(this::fire, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void fire()
    {
        timer = null;
        if (deadlineNanos == 0 || !ctx.channel().isActive())
        {
            return;
        }
        final long remainingNanos = deadlineNanos - ctx.executor().ticker().nanoTime();
        if (remainingNanos > 0)
        {
            arm(remainingNanos);
            return;
        }
        deadlineNanos = 0;
        onExpiry.run();
    }
}
