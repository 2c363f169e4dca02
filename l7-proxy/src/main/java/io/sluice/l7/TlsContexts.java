package io.sluice.l7;

import io.netty.handler.ssl.SslContext;

/**
 * The TLS seam of an https listener: maps the client's SNI host name (null when the client sent none) to the
 * {@link SslContext} to handshake with. The key server helper builds these contexts with
 * {@code OpenSslX509KeyManagerFactory.newKeyless(chain)} and its {@code OpenSslAsyncPrivateKeyMethod}, so the proxy never
 * holds private key bytes; the proxy only installs an {@code SniHandler} that asks this mapping.
 */
@FunctionalInterface
public interface TlsContexts
{
    /**
     * @param sniHostName the server name the client asked for, lower case, or null.
     * @return the context to use; never null (return the listener's default certificate's context).
     */
    SslContext contextFor(String sniHostName);
}
