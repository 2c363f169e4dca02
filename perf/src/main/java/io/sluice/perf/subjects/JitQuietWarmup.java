package io.sluice.perf.subjects;

import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The warm-up a JIT subject gets after the harness's: load in slices until the compiler threads take at most
 * {@code quietShare} of the subject's CPU in {@code quietSlices} slices in a row, or until {@code capSeconds} of slices.
 *
 * @param sliceSeconds length of one slice of load
 * @param capSeconds   most extra warm-up, quiet or not
 * @param quietShare   the compilers' largest share of the subject's CPU in a quiet slice
 * @param quietSlices  quiet slices in a row that end the warm-up
 */
record JitQuietWarmup(double sliceSeconds, double capSeconds, double quietShare, int quietSlices)
{
    /** CPU ticks of the whole subject and of its compiler threads, as read at one instant. */
    record Ticks(long all, long jit)
    {
    }

    JitQuietWarmup
    {
        if (!(sliceSeconds > 0) || capSeconds < sliceSeconds || !(quietShare > 0 && quietShare < 1) || quietSlices < 1)
        {
            throw new IllegalArgumentException("slice " + sliceSeconds + " s, cap " + capSeconds + " s, share " + quietShare
                + ", slices " + quietSlices);
        }
    }

    /**
     * Runs slices ({@code slice} gets the slice's index, 0 first) until the compilers are quiet or the cap is reached.
     *
     * @return the seconds of load added
     */
    double run(final IntConsumer slice, final Supplier<Ticks> ticks)
    {
        double seconds = 0;
        int quiet = 0;
        for (int i = 0; seconds < capSeconds; i++)
        {
            final Ticks before = ticks.get();
            slice.accept(i);
            seconds += sliceSeconds;
            final Ticks after = ticks.get();
            final long all = after.all() - before.all();
            final long jit = after.jit() - before.jit();
            quiet = all > 0 && jit <= quietShare * all ? quiet + 1 : 0;
            if (quiet >= quietSlices)
            {
                break;
            }
        }
        return seconds;
    }
}
