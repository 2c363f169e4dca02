package io.sluice.keyserver;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.sluice.keyserver.cli.KeyServerCommand;
import picocli.CommandLine;

/** Runs `keyserver import` in-process for fixtures (tests that must keep keys out of their heap use a child JVM). */
public final class Imports
{
    private Imports()
    {
    }

    public static void importCertificate(final Path dir, final Path masterKey, final String name, final TestPki.Issued issued,
        final Path chain)
    {
        final List<String> args = new ArrayList<>(List.of("import", "--dir", dir.toString(), "--master-key-file", masterKey.toString(),
            "--name", name, "--cert", issued.cert().toString(), "--key", issued.key().toString()));
        if (chain != null)
        {
            args.addAll(List.of("--chain", chain.toString()));
        }
        run(args);
    }

    public static void importCa(final Path dir, final Path masterKey, final String name, final Path cert)
    {
        run(List.of("import", "--dir", dir.toString(), "--master-key-file", masterKey.toString(), "--ca", "--name", name,
            "--cert", cert.toString()));
    }

    private static void run(final List<String> args)
    {
        final StringWriter err = new StringWriter();
        final CommandLine cli = new CommandLine(new KeyServerCommand());
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(new StringWriter()));
        final int code = cli.execute(args.toArray(String[]::new));
        if (code != 0)
        {
            throw new IllegalStateException("import failed: " + err);
        }
    }
}
