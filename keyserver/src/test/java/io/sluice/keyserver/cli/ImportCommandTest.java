package io.sluice.keyserver.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.sluice.keyserver.TestPki;
import io.sluice.keyserver.store.KeyDirectory;
import io.sluice.keyserver.store.MasterKey;
import io.sluice.keyserver.store.StoredEntry;
import picocli.CommandLine;

import static org.assertj.core.api.Assertions.assertThat;

class ImportCommandTest
{
    @TempDir
    static Path tmp;
    static TestPki pki;
    static TestPki.Issued root;
    static TestPki.Issued intermediate;
    static TestPki.Issued rsaLeaf;
    static TestPki.Issued ecLeaf;

    @BeforeAll
    static void pki() throws IOException
    {
        pki = new TestPki(Files.createDirectories(tmp.resolve("pki")));
        root = pki.ca("root", "rsa:2048");
        intermediate = pki.issue(root, "intermediate", "ec:P-256", "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign,cRLSign");
        rsaLeaf = pki.server(intermediate, "rsa-leaf", "rsa:2048", "rsa.example.test");
        ecLeaf = pki.server(root, "ec-leaf", "ec:P-384", "ec.example.test", "*.ec.example.test");
    }

    private record Result(int exitCode, String out, String err)
    {
    }

    private static Result run(final Path dir, final String... args)
    {
        final List<String> all = new ArrayList<>(List.of("import", "--dir", dir.toString(),
            "--master-key-file", tmp.resolve("master.key").toString(), "--system-ca-bundle", tmp.resolve("no-system-cas").toString()));
        all.addAll(List.of(args));
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cli = new CommandLine(new KeyServerCommand());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        final int code = cli.execute(all.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void shouldStoreAValidChainSealedWithOwnerOnlyPermissions() throws Exception
    {
        final Path dir = tmp.resolve("good");
        final Result r = run(dir, "--name", "web", "--cert", rsaLeaf.cert().toString(), "--key", rsaLeaf.key().toString(),
            "--chain", pki.bundle("chain.pem", intermediate.cert(), root.cert()).toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("imported certificate web");
        final Path entry = dir.resolve("web" + KeyDirectory.ENTRY_SUFFIX);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(entry))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("master.key")))).isEqualTo("rw-------");
        // sealed: the key's PEM body is not in the file
        final String keyBody = Files.readAllLines(rsaLeaf.key()).get(1);
        assertThat(new String(Files.readAllBytes(entry), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(keyBody);

        final StoredEntry stored = new KeyDirectory(dir, MasterKey.load(tmp.resolve("master.key"), dir)).load("web");
        assertThat(stored.kind()).isEqualTo(StoredEntry.Kind.CERTIFICATE);
        assertThat(stored.chainDer()).hasSize(2);
        assertThat(new String(stored.keyPem(), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo(Files.readString(rsaLeaf.key()));
    }

    @Test
    void shouldStoreEcLeafSignedDirectlyByRootAndCaForMutualTls()
    {
        final Path dir = tmp.resolve("ec");
        assertThat(run(dir, "--name", "ec", "--cert", ecLeaf.cert().toString(), "--key", ecLeaf.key().toString(),
            "--chain", root.cert().toString()).exitCode()).isZero();
        final Result ca = run(dir, "--ca", "--name", "clients-ca", "--cert", root.cert().toString());
        assertThat(ca.exitCode()).as(ca.err()).isZero();
        assertThat(Files.exists(dir.resolve("clients-ca" + KeyDirectory.ENTRY_SUFFIX))).isTrue();
    }

    @Test
    void shouldRejectExpiredCertificate() throws Exception
    {
        final TestPki.Issued expired = pki.withDates(root, "expired", "ec:P-256", "20200101000000Z", "20200201000000Z");
        assertRejected("expired", expired.cert(), expired.key(), root.cert(), "certificate expired: notAfter 2020-02-01T00:00:00Z");
    }

    @Test
    void shouldRejectNotYetValidCertificate() throws Exception
    {
        final TestPki.Issued future = pki.withDates(root, "future", "ec:P-256", "20991201000000Z", "20991231000000Z");
        assertRejected("future", future.cert(), future.key(), root.cert(), "not yet valid: notBefore 2099-12-01T00:00:00Z");
    }

    @Test
    void shouldRejectKeyOfAnotherCertificate() throws Exception
    {
        final TestPki.Issued other = pki.server(intermediate, "other-rsa", "rsa:2048", "other.example.test");
        assertRejected("mismatch", rsaLeaf.cert(), other.key(), pki.bundle("c2.pem", intermediate.cert(), root.cert()),
            "key does not match certificate: " + other.key() + " is not the private key of " + rsaLeaf.cert());
    }

    @Test
    void shouldRejectKeyOfAnotherType() throws Exception
    {
        assertRejected("mismatch-type", rsaLeaf.cert(), ecLeaf.key(), pki.bundle("c3.pem", intermediate.cert(), root.cert()),
            "key does not match certificate: " + ecLeaf.key() + " is a EC key but " + rsaLeaf.cert() + " holds a RSA public key");
    }

    @Test
    void shouldRejectChainMissingItsIntermediate() throws Exception
    {
        assertRejected("broken", rsaLeaf.cert(), rsaLeaf.key(), root.cert(), "chain does not verify for CN=rsa-leaf");
    }

    @Test
    void shouldRejectChainToAnUnrelatedRoot() throws Exception
    {
        final TestPki.Issued stranger = pki.ca("stranger", "ec:P-256");
        assertRejected("unrelated", ecLeaf.cert(), ecLeaf.key(), stranger.cert(), "chain does not verify for CN=ec-leaf");
    }

    @Test
    void shouldRejectWeakRsaKey() throws Exception
    {
        final TestPki.Issued weak = pki.server(root, "weak", "rsa:1024", "weak.example.test");
        assertRejected("weak", weak.cert(), weak.key(), root.cert(), "weak key: RSA 1024 bits, at least 2048 required");
    }

    @Test
    void shouldRejectCertificateWithoutSubjectAltName() throws Exception
    {
        final TestPki.Issued noSan = pki.issue(root, "nosan", "ec:P-256", "basicConstraints=CA:FALSE");
        assertRejected("nosan", noSan.cert(), noSan.key(), root.cert(), "certificate has no subjectAltName DNS or IP entry");
    }

    @Test
    void shouldRejectNonCaAsMutualTlsCa()
    {
        final Path dir = tmp.resolve("badca");
        final Result r = run(dir, "--ca", "--name", "x", "--cert", ecLeaf.cert().toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("is not a CA certificate");
        assertThat(dir).doesNotExist();
    }

    @Test
    void shouldRejectAPassphraseProtectedKeyWithoutPrompting() throws Exception
    {
        final Path encrypted = tmp.resolve("encrypted.key");
        TestPki.run(List.of("openssl", "pkey", "-in", ecLeaf.key().toString(), "-aes256", "-passout", "pass:secret",
            "-out", encrypted.toString()));
        assertRejected("encrypted", ecLeaf.cert(), encrypted, root.cert(), "the private key is passphrase-protected");
    }

    @Test
    void shouldNameAMissingFile()
    {
        final Result r = run(tmp.resolve("missing"), "--name", "m", "--cert", tmp.resolve("nope.crt").toString(),
            "--key", rsaLeaf.key().toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("import refused: cannot read " + tmp.resolve("nope.crt") + ": no such file");
    }

    private static void assertRejected(final String name, final Path cert, final Path key, final Path chain, final String message)
        throws IOException
    {
        final Path dir = tmp.resolve("rejected-" + name);
        final Result r = run(dir, "--name", name, "--cert", cert.toString(), "--key", key.toString(), "--chain", chain.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).startsWith("import refused: ").contains(message);
        assertThat(Files.exists(dir) ? Files.list(dir).toList() : List.of()).isEmpty();
    }
}
