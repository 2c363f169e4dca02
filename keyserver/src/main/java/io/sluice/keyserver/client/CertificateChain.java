package io.sluice.keyserver.client;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate as the key server serves it: no key material, only what a proxy needs to build a keyless context.
 *
 * @param name entry name.
 * @param keyId SHA-256 of the leaf DER, named in sign/decrypt requests.
 * @param ca true for a CA entry (mutual TLS trust), false for a server certificate with a key.
 * @param certificates leaf first, then intermediates (for a CA: the CA certificates).
 */
public record CertificateChain(String name, byte[] keyId, boolean ca, List<X509Certificate> certificates)
{
}
