package io.sluice.keyserver.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.sluice.nativeio.crypto.CryptoException;
import io.sluice.nativeio.crypto.KeyType;
import io.sluice.nativeio.crypto.PrivateKeyCrypto;
import io.sluice.nativeio.crypto.SignatureScheme;

/**
 * Validates a certificate, its chain and its private key before anything is stored, in this order: parse, key
 * strength, validity dates, subjectAltName present, key matches certificate (a signature made with the key verifies
 * under the certificate's public key), chain verifies (PKIX, no revocation) to a root in the chain file or the system
 * trust store. The first failure ends the import with a message naming the file and the reason.
 */
public final class CertificateImporter
{
    /** Debian's bundle of the system CAs (ca-certificates). */
    public static final Path SYSTEM_CA_BUNDLE = Path.of("/etc/ssl/certs/ca-certificates.crt");

    private final PrivateKeyCrypto crypto;
    private final Path systemCaBundle;
    private final Instant now;

    public CertificateImporter(final PrivateKeyCrypto crypto, final Path systemCaBundle, final Instant now)
    {
        this.crypto = crypto;
        this.systemCaBundle = systemCaBundle;
        this.now = now;
    }

    /**
     * @param name entry name.
     * @param certFile PEM: the leaf, optionally followed by intermediates.
     * @param keyFile PEM private key (PKCS#8, PKCS#1 or SEC1), unencrypted.
     * @param chainFile optional PEM intermediates and/or root (null when absent).
     * @return the validated entry, ready to store.
     * @throws ImportException with the precise reason.
     * @throws IOException when a file cannot be read.
     */
    public StoredEntry validateCertificate(final String name, final Path certFile, final Path keyFile, final Path chainFile)
        throws ImportException, IOException
    {
        checkName(name);
        final List<X509Certificate> certs = readCertificates(certFile);
        final X509Certificate leaf = certs.getFirst();
        final List<X509Certificate> extra = new ArrayList<>(certs.subList(1, certs.size()));
        if (chainFile != null)
        {
            extra.addAll(readCertificates(chainFile));
        }
        final String subject = leaf.getSubjectX500Principal().getName();

        checkStrength(certFile, leaf.getPublicKey());
        checkDates(certFile, leaf, "certificate");
        for (final X509Certificate c : extra)
        {
            checkDates(chainFile == null ? certFile : chainFile, c, "chain certificate " + c.getSubjectX500Principal().getName());
        }
        checkSans(certFile, leaf);

        final byte[] keyPem = Files.readAllBytes(keyFile);
        final String keyText = new String(keyPem, StandardCharsets.US_ASCII);
        if (keyText.contains("ENCRYPTED PRIVATE KEY") || keyText.contains("Proc-Type: 4,ENCRYPTED"))
        {
            throw new ImportException(keyFile + ": the private key is passphrase-protected; the key server seals keys itself, "
                + "import the unencrypted key (openssl pkey -in " + keyFile + " -out KEY.pem)");
        }
        checkKeyMatches(keyFile, certFile, keyPem, leaf);

        final List<X509Certificate> intermediates = new ArrayList<>();
        final List<X509Certificate> roots = new ArrayList<>();
        for (final X509Certificate c : extra)
        {
            (isSelfSigned(c) ? roots : intermediates).add(c);
        }
        verifyChain(subject, leaf, intermediates, roots);

        final List<byte[]> chainDer = new ArrayList<>();
        try
        {
            chainDer.add(leaf.getEncoded());
            for (final X509Certificate c : intermediates)
            {
                chainDer.add(c.getEncoded());
            }
        }
        catch (final CertificateException ex)
        {
            throw new ImportException(certFile + ": certificate does not re-encode: " + ex.getMessage());
        }
        return new StoredEntry(StoredEntry.Kind.CERTIFICATE, name, now.toEpochMilli(), List.copyOf(chainDer), keyPem);
    }

    /**
     * @param name entry name.
     * @param caFile PEM CA certificate(s) that sign client certificates.
     * @return the validated entry.
     * @throws ImportException with the precise reason.
     * @throws IOException when the file cannot be read.
     */
    public StoredEntry validateCa(final String name, final Path caFile) throws ImportException, IOException
    {
        checkName(name);
        final List<X509Certificate> certs = readCertificates(caFile);
        final List<byte[]> der = new ArrayList<>();
        for (final X509Certificate c : certs)
        {
            if (c.getBasicConstraints() < 0)
            {
                throw new ImportException(caFile + ": " + c.getSubjectX500Principal().getName()
                    + " is not a CA certificate (basicConstraints CA:TRUE missing)");
            }
            checkDates(caFile, c, "CA certificate");
            try
            {
                der.add(c.getEncoded());
            }
            catch (final CertificateException ex)
            {
                throw new ImportException(caFile + ": certificate does not re-encode: " + ex.getMessage());
            }
        }
        return new StoredEntry(StoredEntry.Kind.CA, name, now.toEpochMilli(), List.copyOf(der), new byte[0]);
    }

    private static void checkName(final String name) throws ImportException
    {
        if (!StoredEntry.NAME.matcher(name).matches())
        {
            throw new ImportException("name '" + name + "' is not allowed: use 1-64 of A-Z a-z 0-9 . _ - (not starting with '.')");
        }
    }

    static List<X509Certificate> readCertificates(final Path file) throws ImportException, IOException
    {
        final byte[] pem = Files.readAllBytes(file);
        try
        {
            final Collection<? extends Certificate> parsed =
                CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem));
            final List<X509Certificate> certs = new ArrayList<>();
            for (final Certificate c : parsed)
            {
                certs.add((X509Certificate)c);
            }
            if (certs.isEmpty())
            {
                throw new ImportException(file + ": no certificate found (expected PEM 'BEGIN CERTIFICATE')");
            }
            return certs;
        }
        catch (final CertificateException ex)
        {
            throw new ImportException(file + ": not a PEM X.509 certificate: " + ex.getMessage());
        }
    }

    private static void checkStrength(final Path certFile, final PublicKey key) throws ImportException
    {
        if (key instanceof RSAPublicKey rsa)
        {
            final int bits = rsa.getModulus().bitLength();
            if (bits < 2048)
            {
                throw new ImportException(certFile + ": weak key: RSA " + bits + " bits, at least 2048 required");
            }
        }
        else if (key instanceof ECPublicKey ec)
        {
            final int bits = ec.getParams().getCurve().getField().getFieldSize();
            final String params = ec.getParams().toString();
            final boolean named = params.contains("secp256r1") || params.contains("secp384r1") || params.contains("secp521r1")
                || params.contains("NIST P-256") || params.contains("NIST P-384") || params.contains("NIST P-521");
            if (!named || (bits != 256 && bits != 384 && bits != 521))
            {
                throw new ImportException(certFile + ": unsupported EC curve (" + params + "): use P-256, P-384 or P-521");
            }
        }
        else if (!"Ed25519".equals(key.getAlgorithm()) && !"EdDSA".equals(key.getAlgorithm()))
        {
            throw new ImportException(certFile + ": unsupported key algorithm " + key.getAlgorithm()
                + ": use RSA >= 2048, EC P-256/384/521 or Ed25519");
        }
    }

    private void checkDates(final Path file, final X509Certificate c, final String what) throws ImportException
    {
        try
        {
            c.checkValidity(Date.from(now));
        }
        catch (final CertificateExpiredException ex)
        {
            throw new ImportException(file + ": " + what + " expired: notAfter " + c.getNotAfter().toInstant()
                + " is before now (" + now + ")");
        }
        catch (final CertificateNotYetValidException ex)
        {
            throw new ImportException(file + ": " + what + " not yet valid: notBefore " + c.getNotBefore().toInstant()
                + " is after now (" + now + ")");
        }
    }

    private static void checkSans(final Path certFile, final X509Certificate leaf) throws ImportException
    {
        try
        {
            final Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            // general name types 2 = dNSName, 7 = iPAddress (RFC 5280 4.2.1.6)
            if (sans == null || sans.stream().noneMatch(san -> san.get(0) instanceof Integer t && (t == 2 || t == 7)))
            {
                throw new ImportException(certFile + ": certificate has no subjectAltName DNS or IP entry "
                    + "(clients ignore the subject CN; reissue with subjectAltName=DNS:...)");
            }
        }
        catch (final CertificateException ex)
        {
            throw new ImportException(certFile + ": subjectAltName extension does not parse: " + ex.getMessage());
        }
    }

    private void checkKeyMatches(final Path keyFile, final Path certFile, final byte[] keyPem, final X509Certificate leaf)
        throws ImportException
    {
        final PrivateKeyCrypto.LoadedKey key;
        try
        {
            key = crypto.loadPem(keyPem);
        }
        catch (final CryptoException | IllegalArgumentException ex)
        {
            throw new ImportException(keyFile + ": not an unencrypted PEM private key: " + ex.getMessage());
        }
        try
        {
            final PublicKey pub = leaf.getPublicKey();
            final KeyType certType = pub instanceof RSAPublicKey ? KeyType.RSA
                : pub instanceof ECPublicKey ? KeyType.EC : KeyType.ED25519;
            if (key.type() != certType)
            {
                throw new ImportException("key does not match certificate: " + keyFile + " is a " + key.type()
                    + " key but " + certFile + " holds a " + certType + " public key");
            }
            final byte[] challenge = new byte[64];
            new SecureRandom().nextBytes(challenge);
            final SignatureScheme scheme;
            final String jcaName;
            switch (certType)
            {
                case RSA ->
                {
                    scheme = SignatureScheme.RSA_PKCS1_SHA256;
                    jcaName = "SHA256withRSA";
                }
                case EC ->
                {
                    scheme = SignatureScheme.ECDSA_SECP256R1_SHA256;
                    jcaName = "SHA256withECDSA";
                }
                default ->
                {
                    scheme = SignatureScheme.ED25519;
                    jcaName = "Ed25519";
                }
            }
            final byte[] sig = key.sign(scheme, challenge);
            final Signature verifier = Signature.getInstance(jcaName);
            verifier.initVerify(pub);
            verifier.update(challenge);
            if (!verifier.verify(sig))
            {
                throw new ImportException("key does not match certificate: " + keyFile + " is not the private key of "
                    + certFile + " (" + leaf.getSubjectX500Principal().getName() + ")");
            }
        }
        catch (final GeneralSecurityException | CryptoException ex)
        {
            throw new ImportException("key does not match certificate: " + keyFile + ": " + ex.getMessage());
        }
        finally
        {
            key.close();
        }
    }

    private void verifyChain(final String subject, final X509Certificate leaf, final List<X509Certificate> intermediates,
        final List<X509Certificate> roots) throws ImportException, IOException
    {
        final Set<TrustAnchor> anchors = new HashSet<>();
        for (final X509Certificate r : roots)
        {
            anchors.add(new TrustAnchor(r, null));
        }
        anchors.addAll(systemAnchors());
        if (anchors.isEmpty())
        {
            throw new ImportException("chain does not verify: no CA to verify against (no root in --chain and no system CAs)");
        }
        final List<X509Certificate> path = new ArrayList<>();
        path.add(leaf);
        path.addAll(orderFrom(leaf, intermediates));
        try
        {
            final CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            final PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
        }
        catch (final CertPathValidatorException ex)
        {
            final int index = ex.getIndex();
            final String at = index >= 0 && index < path.size()
                ? " at " + (index == 0 ? "the certificate " : "chain certificate ") + path.get(index).getSubjectX500Principal().getName()
                : "";
            throw new ImportException("chain does not verify for " + subject + at + ": " + ex.getMessage()
                + " (give the intermediates and their root with --chain, or use a certificate from a system CA)");
        }
        catch (final GeneralSecurityException ex)
        {
            throw new ImportException("chain does not verify for " + subject + ": " + ex.getMessage());
        }
    }

    /** Put intermediates in issuer order starting at the leaf, so a chain file in any order works. */
    private static List<X509Certificate> orderFrom(final X509Certificate leaf, final List<X509Certificate> intermediates)
    {
        final List<X509Certificate> remaining = new ArrayList<>(intermediates);
        final List<X509Certificate> ordered = new ArrayList<>();
        X509Certificate current = leaf;
        while (!remaining.isEmpty())
        {
            X509Certificate next = null;
            for (final X509Certificate c : remaining)
            {
                if (c.getSubjectX500Principal().equals(current.getIssuerX500Principal()))
                {
                    next = c;
                    break;
                }
            }
            if (next == null)
            {
                ordered.addAll(remaining);
                break;
            }
            ordered.add(next);
            remaining.remove(next);
            current = next;
        }
        return ordered;
    }

    private Set<TrustAnchor> systemAnchors() throws IOException
    {
        final Set<TrustAnchor> anchors = new HashSet<>();
        if (systemCaBundle != null && Files.isReadable(systemCaBundle))
        {
            try
            {
                for (final Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(systemCaBundle))))
                {
                    anchors.add(new TrustAnchor((X509Certificate)c, null));
                }
            }
            catch (final CertificateException ex)
            {
                throw new IOException("system CA bundle " + systemCaBundle + " does not parse", ex);
            }
        }
        return anchors;
    }

    private static boolean isSelfSigned(final X509Certificate c)
    {
        if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal()))
        {
            return false;
        }
        try
        {
            c.verify(c.getPublicKey());
            return true;
        }
        catch (final GeneralSecurityException ex)
        {
            return false;
        }
    }
}
