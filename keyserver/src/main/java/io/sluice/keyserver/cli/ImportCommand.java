package io.sluice.keyserver.cli;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.Callable;

import io.sluice.keyserver.store.CertificateImporter;
import io.sluice.keyserver.store.ImportException;
import io.sluice.keyserver.store.KeyDirectory;
import io.sluice.keyserver.store.MasterKey;
import io.sluice.keyserver.store.StoredEntry;
import io.sluice.nativeio.crypto.CryptoProviders;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice keyserver import}: validate, then seal and store a certificate with its key, or a CA certificate. */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = "Validate and store a certificate + private key (or, with --ca, a CA certificate for mutual TLS).")
public final class ImportCommand implements Callable<Integer>
{
    @Option(names = "--dir", required = true, description = "key directory")
    Path dir;

    @Option(names = "--name", required = true, description = "name listeners use for it")
    String name;

    @Option(names = "--cert", required = true, description = "PEM certificate (leaf first, intermediates may follow)")
    Path cert;

    @Option(names = "--key", description = "PEM private key (required unless --ca)")
    Path key;

    @Option(names = "--chain", description = "PEM intermediates and/or root the chain verifies to")
    Path chain;

    @Option(names = "--ca", description = "store a CA certificate that signs client certificates")
    boolean ca;

    @Option(names = "--master-key-file", description = "master key, outside --dir; created when absent (default ${DEFAULT-VALUE})")
    Path masterKeyFile = MasterKey.DEFAULT_PATH;

    @Option(names = "--system-ca-bundle", description = "system CAs a chain may verify to (default ${DEFAULT-VALUE})")
    Path systemCaBundle = CertificateImporter.SYSTEM_CA_BUNDLE;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception
    {
        final CertificateImporter importer = new CertificateImporter(CryptoProviders.best(), systemCaBundle, Instant.now());
        final StoredEntry entry;
        try
        {
            if (ca)
            {
                if (key != null)
                {
                    throw new ImportException("--ca takes no --key: a CA certificate for mutual TLS is stored without a key");
                }
                entry = importer.validateCa(name, cert);
            }
            else
            {
                if (key == null)
                {
                    throw new ImportException("--key is required (or --ca for a CA certificate)");
                }
                entry = importer.validateCertificate(name, cert, key, chain);
            }
        }
        catch (final NoSuchFileException ex)
        {
            spec.commandLine().getErr().println("import refused: cannot read " + ex.getFile() + ": no such file");
            spec.commandLine().getErr().flush();
            return 2;
        }
        catch (final ImportException ex)
        {
            spec.commandLine().getErr().println("import refused: " + ex.getMessage());
            spec.commandLine().getErr().flush();
            return 2;
        }
        final KeyDirectory directory = new KeyDirectory(dir, MasterKey.loadOrCreate(masterKeyFile, dir));
        try
        {
            directory.store(entry);
        }
        finally
        {
            entry.wipeKey();
        }
        spec.commandLine().getOut().println("imported " + (ca ? "CA " : "certificate ") + name + " key id "
            + HexFormat.of().formatHex(entry.keyId()) + " (" + entry.chainDer().size() + " certificate(s))");
        spec.commandLine().getOut().flush();
        return 0;
    }
}
