package io.sluice.l7;

import java.io.File;
import java.util.List;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

/**
 * TLS from the proxy to the servers of one group (client side; nothing to do with the keyless listener side).
 *
 * @param verify check the server's certificate chain against {@code caFile} (or the JDK's default trust anchors when
 *               null), and, when {@code sni} is set, that the certificate names that host; false accepts any certificate
 *               (encryption without authentication, for backends with self-signed certificates).
 * @param sni    the host name sent as SNI and verified; null sends no SNI (backends are addressed by IP) and checks the
 *               chain only.
 * @param caFile PEM file of the trust anchors; null = the JDK's default set.
 */
public record UpstreamTls(boolean verify, String sni, String caFile)
{
    /**
     * A client context for these settings: BoringSSL when available (as on the listener side), else the JDK's engine.
     *
     * @param http2 offer only h2 by ALPN (an HTTP/2 group), else only http/1.1.
     * @throws ConfigException naming the group when the CA file cannot be read.
     */
    SslContext newContext(final String groupName, final boolean http2)
    {
        final SslContextBuilder builder = SslContextBuilder.forClient()
            .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
            .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                List.of(http2 ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1)));
        try
        {
            if (!verify)
            {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            }
            else if (caFile != null)
            {
                builder.trustManager(new File(caFile));
            }
            // Netty's client default is HTTPS identification against the peer host; with no name to check, chain only
            builder.endpointIdentificationAlgorithm(verify && sni != null ? "HTTPS" : null);
            return builder.build();
        }
        catch (final SSLException | IllegalArgumentException ex)
        {
            throw new ConfigException("serverGroups[" + groupName + "].tls.caFile: cannot load " + caFile + ": " + ex.getMessage());
        }
    }

    /** An SslHandler for one connection to {@code port}, with SNI (and the name verified) when {@code sni} is set. */
    SslHandler newHandler(final SslContext context, final ByteBufAllocator alloc, final String address, final int port)
    {
        final SslHandler handler = sni != null ? context.newHandler(alloc, sni, port) : context.newHandler(alloc, address, port);
        if (sni == null)
        {
            // an IP literal is never sent as SNI; clear any server name Netty derived from the address anyway
            final SSLEngine engine = handler.engine();
            final SSLParameters parameters = engine.getSSLParameters();
            parameters.setServerNames(List.of());
            engine.setSSLParameters(parameters);
        }
        return handler;
    }
}
