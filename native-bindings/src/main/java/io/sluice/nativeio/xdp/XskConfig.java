package io.sluice.nativeio.xdp;

/**
 * Ring sizes and bind options of an AF_XDP socket.
 *
 * @param rxRingSize         rx descriptors (power of two, 0 for a transmit-only socket).
 * @param txRingSize         tx descriptors (power of two, 0 for a receive-only socket).
 * @param fillRingSize       fill ring entries (power of two), for the socket that owns the fill ring.
 * @param completionRingSize completion ring entries (power of two).
 * @param bindMode           zero-copy, copy, or try zero-copy then copy.
 * @param needWakeup         XDP_USE_NEED_WAKEUP: the kernel says when a syscall is needed, saving most of them.
 * @param busyPollMicros     SO_BUSY_POLL (0 = off): with SO_PREFER_BUSY_POLL the app drives the NAPI loop.
 * @param busyPollBudget     SO_BUSY_POLL_BUDGET packets per busy poll (used when busyPollMicros &gt; 0).
 */
public record XskConfig(int rxRingSize, int txRingSize, int fillRingSize, int completionRingSize, BindMode bindMode,
    boolean needWakeup, int busyPollMicros, int busyPollBudget)
{
    /** How to bind. */
    public enum BindMode
    {
        /** Zero-copy or fail. */
        ZERO_COPY,
        /** Copy mode (works on every driver with XDP, and in generic mode). */
        COPY,
        /** Try zero-copy, fall back to copy and keep the reason. */
        AUTO
    }

    public static final int DEFAULT_RING_SIZE = 2048;

    public XskConfig
    {
        checkRing("rxRingSize", rxRingSize, true);
        checkRing("txRingSize", txRingSize, true);
        checkRing("fillRingSize", fillRingSize, false);
        checkRing("completionRingSize", completionRingSize, false);
        if (rxRingSize == 0 && txRingSize == 0)
        {
            throw new IllegalArgumentException("rxRingSize and txRingSize: at least one must be > 0");
        }
        if (busyPollMicros < 0 || busyPollBudget < 0 || busyPollBudget > 65535)
        {
            throw new IllegalArgumentException("busyPollMicros/busyPollBudget: " + busyPollMicros + "/" + busyPollBudget
                + " must be >= 0 and budget <= 65535");
        }
    }

    private static void checkRing(final String name, final int size, final boolean zeroAllowed)
    {
        if ((size == 0 && zeroAllowed) || (size > 0 && size <= (1 << 20) && Integer.bitCount(size) == 1))
        {
            return;
        }
        throw new IllegalArgumentException(name + ": " + size + " is not a power of two in 1..1048576"
            + (zeroAllowed ? " (or 0)" : ""));
    }

    public static XskConfig defaults()
    {
        return new XskConfig(DEFAULT_RING_SIZE, DEFAULT_RING_SIZE, DEFAULT_RING_SIZE * 2, DEFAULT_RING_SIZE, BindMode.AUTO,
            true, 0, 0);
    }

    public XskConfig withBindMode(final BindMode mode)
    {
        return new XskConfig(rxRingSize, txRingSize, fillRingSize, completionRingSize, mode, needWakeup, busyPollMicros,
            busyPollBudget);
    }

    public XskConfig withBusyPoll(final int micros, final int budget)
    {
        return new XskConfig(rxRingSize, txRingSize, fillRingSize, completionRingSize, bindMode, needWakeup, micros, budget);
    }
}
