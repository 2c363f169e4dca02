package io.sluice.perf.cli;

import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Testbed;
import io.sluice.testbed.TestbedState;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code sluice testbed up|down|status}: the namespace topology the tests, demo and benchmarks
 * use. {@code up} leaves it running (state file marked kept) for a later {@code down}, from
 * any process.
 */
@Command(name = "testbed", mixinStandardHelpOptions = true,
    description = "Create, remove or list namespace testbeds (client, router, lb1, lb2, backend bridge, be1..N).",
    subcommands = {TestbedCommand.Up.class, TestbedCommand.Down.class, TestbedCommand.Status.class})
public final class TestbedCommand implements Callable<Integer>
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 2;
    }

    public static void main(final String[] args)
    {
        System.exit(new CommandLine(new TestbedCommand()).execute(args));
    }

    @Command(name = "up", mixinStandardHelpOptions = true, description = "Create a testbed and leave it running.")
    static final class Up implements Callable<Integer>
    {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--backends", defaultValue = "2", description = "backend namespaces be1..N (default ${DEFAULT-VALUE})")
        int backends;

        @Option(names = "--ecmp", description = "route the VIP over lb1 and lb2 (ECMP, L4 hash) instead of lb1 only")
        boolean ecmp;

        @Option(names = "--management", description = "add a veth from the root namespace to lb1 (198.19.M.0/30)")
        boolean management;

        @Option(names = "--no-servers", description = "do not start the backend servers")
        boolean noServers;

        @Option(names = "--prefix", description = "run prefix (default: sl + 4 random hex digits)")
        String prefix;

        @Override
        public Integer call() throws Exception
        {
            final Testbed.Builder builder = Testbed.builder().backends(backends).ecmp(ecmp).management(management)
                .servers(!noServers).keep(true);
            if (prefix != null)
            {
                builder.prefix(prefix);
            }
            final Testbed testbed = builder.build();
            testbed.detach();
            final PrintWriter out = spec.commandLine().getOut();
            out.println("testbed " + testbed.prefix() + " is up (remove with: sluice testbed down " + testbed.prefix() + ")");
            out.println("namespaces: " + String.join(" ", testbed.namespaces()));
            out.println("VIP " + AddressPlan.VIP_V4 + " / " + AddressPlan.VIP_V6 + " routed via "
                + (ecmp ? "lb1 + lb2 (ECMP)" : "lb1"));
            out.println("client " + AddressPlan.CLIENT_V4 + ", lb1 " + AddressPlan.lbUplinkV4(1) + " / " + AddressPlan.lbSegmentV4(1)
                + ", lb2 " + AddressPlan.lbUplinkV4(2) + " / " + AddressPlan.lbSegmentV4(2));
            for (int k = 1; k <= backends; k++)
            {
                out.println(Testbed.backend(k) + " " + AddressPlan.backendV4(k) + " / " + AddressPlan.backendV6(k)
                    + (noServers ? "" : "  (http :80 " + (testbed.nginxBackends() ? "nginx" : "java")
                    + ", http :8080 java /echo, tcp+udp echo :7)"));
            }
            if (management)
            {
                out.println("management: host " + testbed.addresses().managementHostV4() + " -> lb1 "
                    + testbed.addresses().managementLbV4());
            }
            out.println("run a command inside: ip netns exec " + testbed.ns("client") + " <command>");
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
        description = "Remove testbeds: the given prefixes, or (none given) every kept one and every leftover of a dead owner.")
    static final class Down implements Callable<Integer>
    {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(arity = "0..*", paramLabel = "PREFIX")
        List<String> prefixes = new ArrayList<>();

        @Override
        public Integer call() throws Exception
        {
            final PrintWriter out = spec.commandLine().getOut();
            int status = 0;
            if (prefixes.isEmpty())
            {
                for (final String removed : Testbed.sweep())
                {
                    out.println("removed leftover " + removed);
                }
                for (final TestbedState state : TestbedState.all())
                {
                    if (state.keep())
                    {
                        Testbed.down(state.prefix());
                        out.println("removed " + state.prefix());
                    }
                    else
                    {
                        out.println("left " + state.prefix() + ": in use by live process " + state.ownerPid());
                    }
                }
                return 0;
            }
            for (final String prefix : prefixes)
            {
                if (Testbed.down(prefix))
                {
                    out.println("removed " + prefix);
                }
                else
                {
                    spec.commandLine().getErr().println("no testbed " + prefix + " (no " + TestbedState.fileFor(prefix) + ")");
                    status = 1;
                }
            }
            return status;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "List testbeds known from their state files.")
    static final class Status implements Callable<Integer>
    {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call()
        {
            final PrintWriter out = spec.commandLine().getOut();
            final List<TestbedState> states = TestbedState.all();
            if (states.isEmpty())
            {
                out.println("no testbeds");
                return 0;
            }
            final List<String> existing = Testbed.existingNamespaces();
            out.printf("%-10s %-8s %-6s %-9s %-9s %s%n", "PREFIX", "OWNER", "KEPT", "OWNER-UP", "NETNS", "BACKENDS/ECMP/MGMT");
            for (final TestbedState state : states)
            {
                final long present = state.namespaces().stream().filter(existing::contains).count();
                out.printf("%-10s %-8d %-6s %-9s %-9s %d/%s/%s%n", state.prefix(), state.ownerPid(), state.keep(),
                    state.ownerAlive(), present + "/" + state.namespaces().size(), state.backends(), state.ecmp(), state.management());
            }
            return 0;
        }
    }
}
