package io.sluice.perf.subjects;

import io.sluice.perf.harness.BenchContext;
import io.sluice.perf.harness.Subject;
import io.sluice.perf.harness.Target;

import java.util.Optional;

/**
 * The AF_XDP reflector of native-bindings ({@code io.sluice.nativeio.xdp.XdpReflector}), the first
 * user-space data path. Reported as missing until that class is on the class path; wiring its start
 * (a process in lb1, like nginx) is added together with the class.
 */
public final class XdpReflector implements Subject
{
    public static final String CLASS_NAME = "io.sluice.nativeio.xdp.XdpReflector";

    @Override
    public String name()
    {
        return "af-xdp-reflector";
    }

    @Override
    public Kind kind()
    {
        return Kind.SLUICE;
    }

    @Override
    public String description()
    {
        return "sluice's Panama AF_XDP reflector (copy mode) in lb1 (" + CLASS_NAME + ")";
    }

    @Override
    public Optional<String> unavailable(final BenchContext ctx)
    {
        try
        {
            Class.forName(CLASS_NAME, false, XdpReflector.class.getClassLoader());
            return Optional.of(CLASS_NAME + " exists but this harness does not drive it yet");
        }
        catch (final ClassNotFoundException ex)
        {
            return Optional.of(CLASS_NAME + " is not on main yet (native-bindings, issue 2)");
        }
    }

    @Override
    public Target start(final BenchContext ctx)
    {
        throw new IllegalStateException(unavailable(ctx).orElse("unavailable"));
    }

    @Override
    public void stop(final BenchContext ctx)
    {
        // never started
    }
}
