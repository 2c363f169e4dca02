package io.sluice.control.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** The root of the {@code sluice} command: every subcommand of CONTRACT.md, and a few more. */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = SluiceCommand.Version.class,
    description = "A server load balancer for bare-metal edge servers: L4 FullNAT over AF_XDP, L7 HTTP(S) proxy, key server.",
    subcommandsRepeatable = false)
public final class SluiceCommand implements Runnable
{
    /**
     * Subcommands of the contract whose capability lands with a later issue: name → the issue that brings it.
     * {@code PendingCommandsTest} pins this list so none is forgotten.
     */
    static final Map<String, Pending> PENDING = new LinkedHashMap<>();

    /**
     * A subcommand not built yet.
     *
     * @param issue       the issue that brings it.
     * @param description its one-line help.
     */
    record Pending(String issue, String description)
    {
    }

    @Override
    public void run()
    {
        CommandLine.usage(this, System.out);
    }

    /** The command line with every subcommand registered. */
    public static CommandLine commandLine()
    {
        final CommandLine root = new CommandLine(new SluiceCommand());
        root.addSubcommand("demo", new io.sluice.control.demo.DemoCommand());
        root.addSubcommand("node", new NodeCommand());
        root.addSubcommand("stat", new StatCommand());
        root.addSubcommand("apply", new ClientCommands.Apply());
        root.addSubcommand("diff", new ClientCommands.Diff());
        root.addSubcommand("get", new ClientCommands.Get());
        root.addSubcommand("delete", new ClientCommands.Delete());
        root.addSubcommand("history", new ClientCommands.History());
        root.addSubcommand("usage", new UsageCommand());
        root.addSubcommand("keyserver", new io.sluice.keyserver.cli.KeyServerCommand());
        root.addSubcommand("testbed", new io.sluice.perf.cli.TestbedCommand());
        root.addSubcommand("bench", new io.sluice.perf.cli.BenchCommand());
        for (final Map.Entry<String, Pending> entry : PENDING.entrySet())
        {
            final CommandLine pending = new CommandLine(new PendingCommand(entry.getKey(), entry.getValue().issue()));
            pending.getCommandSpec().usageMessage().description(entry.getValue().description() + " (not available yet)");
            root.addSubcommand(entry.getKey(), pending);
        }
        root.addSubcommand("validate", new ValidateCommand());
        root.addSubcommand("config-reference", new ConfigReferenceCommand());
        root.addSubcommand("version", new VersionCommand());
        root.setCaseInsensitiveEnumValuesAllowed(false);
        return root;
    }

    /** The build's version. */
    public static String version()
    {
        try (InputStream in = SluiceCommand.class.getResourceAsStream("/io/sluice/control/version.properties"))
        {
            final Properties properties = new Properties();
            if (in != null)
            {
                properties.load(in);
            }
            return properties.getProperty("version", "unknown");
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }

    /** For {@code --version}. */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            return new String[] {"sluice " + version(), "JVM " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
                "OS " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch")};
        }
    }

    /** {@code sluice version}. */
    @Command(name = "version", description = "Print the version of sluice, the JVM and the kernel.")
    static final class VersionCommand implements Runnable
    {
        @Override
        public void run()
        {
            for (final String line : new Version().getVersion())
            {
                System.out.println(line);
            }
        }
    }
}
