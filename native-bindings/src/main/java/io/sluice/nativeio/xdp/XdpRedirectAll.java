package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.bpf.Bpf;
import io.sluice.nativeio.bpf.BpfAssembler;
import io.sluice.nativeio.bpf.BpfMap;

import static io.sluice.nativeio.bpf.BpfAssembler.R1;
import static io.sluice.nativeio.bpf.BpfAssembler.R2;
import static io.sluice.nativeio.bpf.BpfAssembler.R3;
import static io.sluice.nativeio.bpf.BpfAssembler.R6;
import static io.sluice.nativeio.bpf.BpfAssembler.W;

/**
 * The smallest useful XDP program: every frame to the XSK of its rx queue (XDP_PASS when none is registered).
 * For benchmarks and the reflector, where ARP is answered by static neighbour entries on the generator side.
 */
public final class XdpRedirectAll implements AutoCloseable
{
    private final BpfMap xsksMap;
    private final int programFd;
    private int linkFd = -1;

    public XdpRedirectAll(final int maxQueues)
    {
        xsksMap = BpfMap.create(Bpf.BPF_MAP_TYPE_XSKMAP, 4, 4, maxQueues, "xsks_map");
        try
        {
            final long[] program = new BpfAssembler()
                .mov64(R6, R1)
                .ldMapFd(R1, xsksMap.fd())
                .ldx(W, R2, R6, 16)
                .mov64Imm(R3, SteeringProgram.XDP_PASS)
                .call(BpfAssembler.FN_REDIRECT_MAP)
                .exit()
                .assemble();
            programFd = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, program, "sluice_redir");
        }
        catch (final RuntimeException ex)
        {
            xsksMap.close();
            throw ex;
        }
    }

    /** Attach through a BPF link (dies with the process) to {@code ifindex} in the calling thread's namespace. */
    public XdpRedirectAll attach(final int ifindex, final XdpMode mode)
    {
        linkFd = Bpf.linkCreateXdp(programFd, ifindex, mode.flags());
        return this;
    }

    public void registerXsk(final int queue, final int xskFd)
    {
        xsksMap.updateInt(queue, xskFd);
    }

    @Override
    public void close()
    {
        if (linkFd >= 0)
        {
            Libc.close(linkFd);
            linkFd = -1;
        }
        Libc.close(programFd);
        xsksMap.close();
    }
}
