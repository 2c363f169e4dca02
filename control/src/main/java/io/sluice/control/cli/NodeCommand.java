package io.sluice.control.cli;

import io.sluice.control.config.ConfigException;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.node.Node;
import io.sluice.control.node.PerfProfile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/** {@code sluice node --config FILE [--profile NAME]}: one LB node in the foreground, in this network namespace. */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Run one LB node in the foreground (fastpath + L7 proxy + API) in the current network namespace. "
        + "SIGTERM drains for up to drainTimeoutSeconds and exits 0; a bad config exits 1 with every error.")
final class NodeCommand implements Callable<Integer>
{
    static final int EXIT_BAD_CONFIG = 1;
    static final int EXIT_START_FAILED = 3;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The node's config (YAML or JSON).")
    Path configFile;

    @Option(names = "--profile", paramLabel = "NAME", description = "Perf profile, overriding node.profile: "
        + "latency | throughput | balanced | shared.")
    String profileName;

    @Option(names = "--config-wins", description = "Apply the file's loadBalancers on top of the journal as a new entry.")
    boolean configWins;

    @Override
    public Integer call()
    {
        final SluiceConfig config;
        final PerfProfile profile;
        try
        {
            config = ConfigLoader.load(configFile);
            if (config.node() == null)
            {
                throw new ConfigException(configFile.toString(), java.util.List.of("node: is required to run a node"));
            }
            final String home = System.getenv("SLUICE_HOME");
            profile = PerfProfile.load(profileName != null ? profileName : config.node().profile().wireName(),
                home == null ? null : Path.of(home));
        }
        catch (final ConfigException ex)
        {
            System.err.println(ex.getMessage());
            return EXIT_BAD_CONFIG;
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("sluice node: " + ex.getMessage());
            return EXIT_BAD_CONFIG;
        }

        final CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM and SIGINT end the node with exit 0 after draining (a JVM left to its default would exit 143).
        Signal.handle(new Signal("TERM"), signal -> stop.countDown());
        Signal.handle(new Signal("INT"), signal -> stop.countDown());

        final Node node;
        try
        {
            node = Node.start(config, profile, configWins);
        }
        catch (final RuntimeException ex)
        {
            System.err.println("sluice node: cannot start: " + ex.getMessage());
            return EXIT_START_FAILED;
        }
        final String added = node.addedAddresses().stream().map(a -> a.address().getHostAddress() + " on " + a.ifname())
            .collect(Collectors.joining(", "));
        System.err.println("sluice node " + config.node().name() + " ready: config version " + node.configService().version()
            + ", " + node.configService().current().loadBalancers().size()
            + " load balancers, API http://" + node.apiAddress().getHostString() + ":" + node.apiAddress().getPort()
            + ", profile " + profile.name() + ", stateDir " + config.node().stateDir()
            + (added.isEmpty() ? "" : ", added " + added) + ", pid " + ProcessHandle.current().pid());
        try
        {
            stop.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        System.err.println("sluice node " + config.node().name() + ": draining (up to " + config.node().drainTimeoutSeconds() + " s)");
        node.close();
        System.err.println("sluice node " + config.node().name() + ": stopped");
        return 0;
    }
}
