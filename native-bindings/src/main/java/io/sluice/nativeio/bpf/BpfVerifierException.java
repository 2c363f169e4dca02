package io.sluice.nativeio.bpf;

import io.sluice.nativeio.NativeException;

/** The kernel refused a BPF program; {@link #verifierLog()} says which instruction and why. */
public final class BpfVerifierException extends NativeException
{
    private static final long serialVersionUID = 1L;

    private final String verifierLog;

    public BpfVerifierException(final String call, final int errno, final String verifierLog)
    {
        super(call, errno, "the verifier refused the program; its log follows", "verifier log:\n" + verifierLog);
        this.verifierLog = verifierLog;
    }

    public String verifierLog()
    {
        return verifierLog;
    }
}
