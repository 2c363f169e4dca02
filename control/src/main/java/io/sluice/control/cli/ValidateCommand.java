package io.sluice.control.cli;

import io.sluice.control.config.ConfigException;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.SluiceConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sluice validate -f FILE}: checks a config file without touching any node. */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Check a config file (every error at once, with its key path); touches no node.")
final class ValidateCommand implements Callable<Integer>
{
    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "The YAML or JSON config.")
    Path file;

    @Override
    public Integer call()
    {
        try
        {
            final SluiceConfig config = ConfigLoader.load(file);
            System.out.println(file + ": valid (" + config.loadBalancers().size() + " load balancers, "
                + config.loadBalancers().stream().mapToInt(lb -> lb.listeners().size()).sum() + " listeners)");
            return 0;
        }
        catch (final ConfigException ex)
        {
            System.err.println(ex.getMessage());
            return 1;
        }
    }
}
