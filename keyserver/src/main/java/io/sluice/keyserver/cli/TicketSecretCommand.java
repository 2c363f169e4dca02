package io.sluice.keyserver.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.Callable;

import io.sluice.keyserver.store.KeyDirectory;
import io.sluice.keyserver.store.MasterKey;
import io.sluice.keyserver.store.SecureFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice keyserver ticket-secret}: store the secret session-ticket keys derive from. Give every machine of a
 * cluster the same secret (--from FILE) and a session resumes on any of them; a running key server picks it up by itself.
 */
@Command(name = "ticket-secret", mixinStandardHelpOptions = true,
    description = "Store the session-ticket secret (from a file, or --generate a file to copy to every machine).")
public final class TicketSecretCommand implements Callable<Integer>
{
    @Option(names = "--dir", required = true, description = "key directory")
    Path dir;

    @Option(names = "--from", description = "file holding >= 32 secret bytes (e.g. head -c 48 /dev/urandom)")
    Path from;

    @Option(names = "--generate", description = "write 48 fresh random bytes to this file (0600) and store them")
    Path generate;

    @Option(names = "--master-key-file", description = "master key, outside --dir (default ${DEFAULT-VALUE})")
    Path masterKeyFile = MasterKey.DEFAULT_PATH;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception
    {
        if ((from == null) == (generate == null))
        {
            spec.commandLine().getErr().println("give exactly one of --from FILE or --generate FILE");
            spec.commandLine().getErr().flush();
            return 2;
        }
        final byte[] secret;
        if (generate != null)
        {
            secret = new byte[48];
            new SecureRandom().nextBytes(secret);
            SecureFiles.writeAtomically(generate, secret);
        }
        else
        {
            secret = Files.readAllBytes(from);
        }
        try
        {
            new KeyDirectory(dir, MasterKey.loadOrCreate(masterKeyFile, dir)).storeTicketSecret(secret);
        }
        finally
        {
            Arrays.fill(secret, (byte)0);
        }
        spec.commandLine().getOut().println("ticket secret stored; a running key server switches to it within a second");
        spec.commandLine().getOut().flush();
        return 0;
    }
}
