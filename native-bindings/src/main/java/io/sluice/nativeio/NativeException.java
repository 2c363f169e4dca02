package io.sluice.nativeio;

/**
 * A kernel call failed. Made only at the boundary (setup, control calls): hot-path calls return {@code -errno}
 * instead. Carries the call, the errno and its name, and a hint saying what usually causes it.
 */
public class NativeException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;
    private final String hint;

    public NativeException(final String call, final int errno, final String hint)
    {
        super(message(call, errno, hint));
        this.call = call;
        this.errno = Math.abs(errno);
        this.hint = hint;
    }

    public NativeException(final String call, final int errno, final String hint, final String detail)
    {
        super(message(call, errno, hint) + "\n" + detail);
        this.call = call;
        this.errno = Math.abs(errno);
        this.hint = hint;
    }

    /**
     * Throw if {@code result} is a negative errno.
     *
     * @return the result when it is not negative.
     */
    public static long check(final long result, final String call, final String hint)
    {
        if (result < 0)
        {
            throw new NativeException(call, (int)-result, hint);
        }
        return result;
    }

    /**
     * Throw if {@code result} is a negative errno.
     *
     * @return the result when it is not negative.
     */
    public static int check(final int result, final String call, final String hint)
    {
        if (result < 0)
        {
            throw new NativeException(call, -result, hint);
        }
        return result;
    }

    private static String message(final String call, final int errno, final String hint)
    {
        return call + " failed: " + Errno.name(errno) + " (" + Math.abs(errno) + ")" + (hint == null ? "" : "; " + hint);
    }

    public String call()
    {
        return call;
    }

    public int errno()
    {
        return errno;
    }

    public String errnoName()
    {
        return Errno.name(errno);
    }

    public String hint()
    {
        return hint;
    }
}
