package io.sluice.control.cli;


/** The {@code sluice} command. */
public final class Main
{
    private Main()
    {
    }

    public static void main(final String[] args)
    {
        // One line per record, on stderr (java.util.logging backs System.Logger when no other logging is present).
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        System.exit(SluiceCommand.commandLine().execute(args));
    }
}
