package io.sluice.keyserver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made with the openssl command line (as an operator would), so the test JVM never generates or
 * parses the private keys it later looks for in a heap dump.
 */
public final class TestPki
{
    private final Path dir;

    public TestPki(final Path dir)
    {
        this.dir = dir;
    }

    public Path dir()
    {
        return dir;
    }

    /** A certificate and its key on disk. */
    public record Issued(Path cert, Path key)
    {
    }

    /**
     * @param name file stem.
     * @param keySpec openssl -newkey argument: "rsa:2048", "ec" + curve option.
     * @return a self-signed CA.
     */
    public Issued ca(final String name, final String keySpec) throws IOException
    {
        final Path key = dir.resolve(name + ".key");
        final Path cert = dir.resolve(name + ".crt");
        final List<String> cmd = new ArrayList<>(List.of("openssl", "req", "-x509", "-nodes", "-days", "30",
            "-subj", "/CN=" + name, "-keyout", key.toString(), "-out", cert.toString(),
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"));
        cmd.addAll(newKey(keySpec));
        run(cmd);
        return new Issued(cert, key);
    }

    /**
     * @param issuer signing CA.
     * @param name file stem and CN.
     * @param keySpec key to generate.
     * @param extensions extension lines (subjectAltName=..., basicConstraints=...), empty for none.
     * @return the certificate.
     */
    public Issued issue(final Issued issuer, final String name, final String keySpec, final String... extensions) throws IOException
    {
        final Path key = dir.resolve(name + ".key");
        final Path csr = dir.resolve(name + ".csr");
        final Path cert = dir.resolve(name + ".crt");
        final List<String> req = new ArrayList<>(List.of("openssl", "req", "-new", "-nodes", "-subj", "/CN=" + name,
            "-keyout", key.toString(), "-out", csr.toString()));
        req.addAll(newKey(keySpec));
        run(req);
        final Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, "[v3]\n" + String.join("\n", extensions) + "\n");
        run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", issuer.cert().toString(), "-CAkey", issuer.key().toString(),
            "-CAcreateserial", "-out", cert.toString(), "-days", "30", "-sha256", "-extfile", ext.toString(), "-extensions", "v3"));
        return new Issued(cert, key);
    }

    /** A leaf for host names, signed by issuer. */
    public Issued server(final Issued issuer, final String name, final String keySpec, final String... dnsNames) throws IOException
    {
        final StringBuilder san = new StringBuilder("subjectAltName=");
        for (int i = 0; i < dnsNames.length; i++)
        {
            san.append(i == 0 ? "" : ",").append("DNS:").append(dnsNames[i]);
        }
        return issue(issuer, name, keySpec, san.toString(), "basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth");
    }

    /**
     * A certificate with explicit dates, through {@code openssl ca -startdate/-enddate}.
     */
    public Issued withDates(final Issued issuer, final String name, final String keySpec, final String startDate, final String endDate)
        throws IOException
    {
        final Path key = dir.resolve(name + ".key");
        final Path csr = dir.resolve(name + ".csr");
        final Path cert = dir.resolve(name + ".crt");
        final List<String> req = new ArrayList<>(List.of("openssl", "req", "-new", "-nodes", "-subj", "/CN=" + name,
            "-keyout", key.toString(), "-out", csr.toString()));
        req.addAll(newKey(keySpec));
        run(req);
        final Path caDir = dir.resolve(name + "-ca");
        Files.createDirectories(caDir.resolve("newcerts"));
        Files.writeString(caDir.resolve("index.txt"), "");
        Files.writeString(caDir.resolve("serial"), "1000\n");
        final Path cnf = caDir.resolve("ca.cnf");
        Files.writeString(cnf, String.join("\n",
            "[ca]", "default_ca = d", "[d]", "dir = " + caDir, "database = $dir/index.txt", "new_certs_dir = $dir/newcerts",
            "serial = $dir/serial", "default_md = sha256", "policy = any", "unique_subject = no", "x509_extensions = v3",
            "[any]", "commonName = supplied", "[v3]", "subjectAltName = DNS:" + name + ".test", "basicConstraints = CA:FALSE", ""));
        run(List.of("openssl", "ca", "-batch", "-notext", "-config", cnf.toString(), "-cert", issuer.cert().toString(),
            "-keyfile", issuer.key().toString(), "-in", csr.toString(), "-out", cert.toString(),
            "-startdate", startDate, "-enddate", endDate));
        return new Issued(cert, key);
    }

    /** Concatenate PEM files. */
    public Path bundle(final String name, final Path... files) throws IOException
    {
        final StringBuilder sb = new StringBuilder();
        for (final Path f : files)
        {
            sb.append(Files.readString(f));
        }
        final Path out = dir.resolve(name);
        Files.writeString(out, sb.toString());
        return out;
    }

    private static List<String> newKey(final String keySpec)
    {
        if (keySpec.startsWith("ec:"))
        {
            return List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + keySpec.substring(3));
        }
        return List.of("-newkey", keySpec);
    }

    public static void run(final List<String> cmd) throws IOException
    {
        final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        final String out;
        try
        {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
            {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        }
        catch (final InterruptedException ex)
        {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
    }
}
