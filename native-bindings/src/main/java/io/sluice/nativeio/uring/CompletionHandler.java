package io.sluice.nativeio.uring;

/** Called once per reaped CQE, on the reaping thread; must not keep a reference to anything it is given. */
@FunctionalInterface
public interface CompletionHandler
{
    /**
     * @param userData the SQE's user_data.
     * @param result   the operation's result, or -errno.
     * @param flags    IORING_CQE_F_* (F_MORE: a multishot request stays armed; F_BUFFER: buffer id in flags >>> 16).
     */
    void onCompletion(long userData, int result, int flags);
}
