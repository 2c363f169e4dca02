package io.sluice.l7;

import io.netty.channel.ChannelHandler;
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
     * @throws RuntimeException when the listener's contexts are not loaded yet: the connection is closed and counted.
     */
    SslContext contextFor(String sniHostName);

    /**
     * A handler installed right after the SniHandler on each connection, e.g. the key server's
     * {@code KeyServerAlertHandler}, which turns a failed private-key operation into a fatal TLS alert (BoringSSL would
     * close silently).
     *
     * @return a new handler for one channel, or null for none.
     */
    default ChannelHandler newAlertHandler()
    {
        return null;
    }
}
