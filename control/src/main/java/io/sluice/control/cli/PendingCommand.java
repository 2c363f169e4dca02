package io.sluice.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** A contract subcommand whose capability lands with a later issue: it says which, and exits 2. */
@Command(mixinStandardHelpOptions = true)
final class PendingCommand implements Callable<Integer>
{
    static final int EXIT_NOT_AVAILABLE = 2;

    private final String name;
    private final String issue;

    @Parameters(arity = "0..*", hidden = true)
    List<String> ignored;

    @picocli.CommandLine.Unmatched
    List<String> unmatched;

    PendingCommand(final String name, final String issue)
    {
        this.name = name;
        this.issue = issue;
    }

    @Override
    public Integer call()
    {
        System.err.println("sluice " + name + ": not available in this build yet; it comes with " + issue + ".");
        return EXIT_NOT_AVAILABLE;
    }
}
