package io.sluice.control.cli;

import io.sluice.control.config.ConfigReference;
import picocli.CommandLine.Command;

/** {@code sluice config-reference}: prints docs/config.md from the schema. */
@Command(name = "config-reference", mixinStandardHelpOptions = true,
    description = "Print the config reference (Markdown) generated from the schema this build accepts.")
final class ConfigReferenceCommand implements Runnable
{
    @Override
    public void run()
    {
        System.out.print(ConfigReference.render());
    }
}
