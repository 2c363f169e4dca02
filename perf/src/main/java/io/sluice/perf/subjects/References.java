package io.sluice.perf.subjects;

import io.sluice.perf.harness.BenchContext;
import io.sluice.perf.harness.Subject;
import io.sluice.perf.harness.Target;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;

import java.util.ArrayList;
import java.util.List;

/** Subjects that need nothing started: the generator alone, plain routing, straight to a backend. */
public final class References
{
    private References()
    {
    }

    /** The UDP generator's ceiling: packets to the router's own address, counted and dropped there. */
    public static Subject generatorCeiling()
    {
        return new Fixed("generator-ceiling", Subject.Kind.REFERENCE,
            "UDP generator alone: sendmmsg from client, counted and dropped at the router's ingress (no LB on the path)",
            ctx -> new Target(List.of(AddressPlan.ROUTER_CLIENT_V4), 0, List.of(Testbed.ROUTER)));
    }

    /** Kernel IPv4 forwarding: client → router → lb1 (forwarding only) → backend addresses. */
    public static Subject kernelForwarding()
    {
        return new Fixed("kernel-forwarding", Subject.Kind.BASELINE,
            "Linux IPv4 forwarding in lb1 (no NAT): the client addresses the backends directly",
            ctx -> new Target(backendAddresses(ctx), 0, backendNodes(ctx)));
    }

    /** No load balancer: the client talks to be1 directly (routed through router and lb1). */
    public static Subject direct(final int port)
    {
        return new Fixed("direct", Subject.Kind.REFERENCE,
            "no load balancer: client → be1:" + port + " (routed through router and lb1's kernel forwarding)",
            ctx -> new Target(List.of(AddressPlan.backendV4(1)), port, List.of(Testbed.backend(1))));
    }

    static List<String> backendAddresses(final BenchContext ctx)
    {
        final List<String> addresses = new ArrayList<>();
        for (int k = 1; k <= ctx.testbed().backendCount(); k++)
        {
            addresses.add(AddressPlan.backendV4(k));
        }
        return addresses;
    }

    static List<String> backendNodes(final BenchContext ctx)
    {
        final List<String> nodes = new ArrayList<>();
        for (int k = 1; k <= ctx.testbed().backendCount(); k++)
        {
            nodes.add(Testbed.backend(k));
        }
        return nodes;
    }

    private record Fixed(String name, Kind kind, String description, java.util.function.Function<BenchContext, Target> target)
        implements Subject
    {
        @Override
        public Target start(final BenchContext ctx)
        {
            return target.apply(ctx);
        }

        @Override
        public void stop(final BenchContext ctx)
        {
            // nothing was started
        }
    }
}
