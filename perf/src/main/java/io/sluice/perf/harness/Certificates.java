package io.sluice.perf.harness;

import io.sluice.testbed.Commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Self-signed server certificates made with openssl for the TLS baselines: ECDSA P-256 and
 * RSA-2048, key on disk (the baselines' way; sluice keeps keys in its key server).
 */
public final class Certificates
{
    public enum KeyType
    {
        ECDSA_P256("ecdsa-p256", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        RSA_2048("rsa-2048", "-newkey", "rsa:2048");

        private final String label;
        private final String[] args;

        KeyType(final String label, final String... args)
        {
            this.label = label;
            this.args = args;
        }

        public String label()
        {
            return label;
        }
    }

    private final Path dir;

    public Certificates(final Path dir)
    {
        this.dir = dir;
    }

    public Path certificate(final KeyType type) throws IOException
    {
        ensure(type);
        return dir.resolve(type.label() + ".crt");
    }

    public Path key(final KeyType type) throws IOException
    {
        ensure(type);
        return dir.resolve(type.label() + ".key");
    }

    /** Certificate followed by key in one file (HAProxy's crt format). */
    public Path pem(final KeyType type) throws IOException
    {
        ensure(type);
        return dir.resolve(type.label() + ".pem");
    }

    private synchronized void ensure(final KeyType type) throws IOException
    {
        final Path crt = dir.resolve(type.label() + ".crt");
        if (Files.exists(crt))
        {
            return;
        }
        Files.createDirectories(dir);
        final java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("openssl", "req", "-x509", "-nodes",
            "-days", "30", "-subj", "/CN=bench.sluice.test", "-addext", "subjectAltName=DNS:bench.sluice.test,IP:198.18.0.100"));
        cmd.addAll(java.util.List.of(type.args));
        cmd.addAll(java.util.List.of("-keyout", dir.resolve(type.label() + ".key").toString(), "-out", crt.toString()));
        Commands.run(cmd).check();
        Files.writeString(dir.resolve(type.label() + ".pem"), Files.readString(crt) + Files.readString(
            dir.resolve(type.label() + ".key")));
    }
}
