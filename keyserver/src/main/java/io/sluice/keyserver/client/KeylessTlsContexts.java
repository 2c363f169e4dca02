package io.sluice.keyserver.client;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLException;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.OpenSslX509KeyManagerFactory;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;

import io.sluice.keyserver.KeyServerCounter;

/**
 * The server-side TLS contexts of one HTTPS listener, none holding a private key: one keyless BoringSSL context per
 * certificate name (its private-key step goes to the key server), an SNI mapping over their subjectAltNames (the first
 * certificate is the default), the listener's {@link TlsPolicy}, ALPN h2/http1.1, optional mutual TLS against a CA
 * imported into the key server, and session-ticket keys from the key server.
 * <p>
 * {@link #load()} fetches chains and ticket keys; until it succeeds the listener is "not ready" and {@link #readiness()}
 * says why (unknown certificate, key server down); it blocks, so call it off the event loop. Call
 * {@link #refreshTicketKeys()} (non-blocking) every
 * {@link #ticketRefreshIntervalMs()} (e.g. from the event loop's scheduler) to follow rotation.
 */
public final class KeylessTlsContexts
{
    private static final Logger LOG = System.getLogger(KeylessTlsContexts.class.getName());
    private static final long FETCH_TIMEOUT_MS = 2000;

    /**
     * @param certificateNames names imported into the key server; SNI picks among them, the first is the default.
     * @param policy protocol versions and suites.
     * @param http2 offer h2 before http/1.1 in ALPN (else http/1.1 only).
     * @param clientCaName a CA imported with {@code import --ca}: require client certificates it signed (null: no mTLS).
     */
    public record Spec(List<String> certificateNames, TlsPolicy policy, boolean http2, String clientCaName)
    {
        public Spec
        {
            if (certificateNames == null || certificateNames.isEmpty())
            {
                throw new IllegalArgumentException("certificates: at least one certificate name is required");
            }
            certificateNames = List.copyOf(certificateNames);
        }
    }

    private final KeyServerClient client;
    private final Spec spec;
    private final AtomicCounter keyFailures;
    private final AtomicCounter alertsSent;
    private volatile Map<String, SslContext> contexts = Map.of();
    /** Key id (leaf SHA-256) of each certificate the current contexts were built from. */
    private volatile Map<String, byte[]> loadedKeyIds = Map.of();
    private volatile Mapping<String, SslContext> sniMapping;
    private volatile String readiness = "not loaded";
    private volatile long ticketRefreshIntervalMs = 60_000;

    public KeylessTlsContexts(final KeyServerClient client, final Spec spec, final CountersManager counters)
    {
        this(client, spec, KeyServerCounter.CLIENT_HANDSHAKE_KEY_FAILURES.allocate(counters),
            KeyServerCounter.CLIENT_HANDSHAKE_ALERTS.allocate(counters));
    }

    /**
     * For a process with many listeners (a node): the counters are shared by all of them, allocated once by the
     * caller, so listeners coming and going neither duplicate nor leak counters.
     *
     * @param keyFailures {@code keyserver_client.tls.key_op_failures}.
     * @param alertsSent {@code keyserver_client.tls.alerts_sent}.
     */
    public KeylessTlsContexts(final KeyServerClient client, final Spec spec, final AtomicCounter keyFailures,
        final AtomicCounter alertsSent)
    {
        this.client = client;
        this.spec = spec;
        this.keyFailures = keyFailures;
        this.alertsSent = alertsSent;
    }

    /**
     * Fetch every chain (and the client CA) from the key server and build the contexts.
     *
     * @return true when the listener is ready; otherwise {@link #readiness()} has the reason.
     */
    public boolean load()
    {
        try
        {
            final Map<String, SslContext> built = new LinkedHashMap<>();
            final Map<String, byte[]> keyIds = new LinkedHashMap<>();
            DomainWildcardMappingBuilder<SslContext> mapping = null;
            X509Certificate[] trust = null;
            if (spec.clientCaName() != null)
            {
                final CertificateChain ca = fetch(spec.clientCaName());
                if (!ca.ca())
                {
                    readiness = "mutualTls.caCertificate " + spec.clientCaName() + " is a server certificate, not a CA";
                    return false;
                }
                trust = ca.certificates().toArray(X509Certificate[]::new);
            }
            SslContext first = null;
            for (final String name : spec.certificateNames())
            {
                final CertificateChain chain = fetch(name);
                if (chain.ca())
                {
                    readiness = "certificate " + name + " is a CA entry, not a server certificate";
                    return false;
                }
                final SslContext ctx = build(chain, trust);
                built.put(name, ctx);
                keyIds.put(name, chain.keyId());
                if (first == null)
                {
                    first = ctx;
                    mapping = new DomainWildcardMappingBuilder<>(ctx);
                }
                for (final String host : dnsNames(chain.certificates().getFirst()))
                {
                    mapping.add(host, ctx);
                }
            }
            final SslContext defaultContext = first;
            final Mapping<String, SslContext> byHost = mapping.build();
            contexts = Map.copyOf(built);
            loadedKeyIds = Map.copyOf(keyIds);
            // no SNI, or a name no certificate covers: the first certificate (as nginx's default server)
            sniMapping = host -> host == null ? defaultContext : byHost.map(host);
            awaitTicketKeys();
            readiness = "ready";
            return true;
        }
        catch (final KeyServerUnavailable ex)
        {
            readiness = ex.getMessage();
            return false;
        }
        catch (final SSLException | CertificateParsingException | RuntimeException ex)
        {
            readiness = "cannot build TLS context: " + ex;
            return false;
        }
    }

    /**
     * Follow a certificate re-imported under the same name (renewal, key rotation): ask the key server for each chain and
     * rebuild the contexts when a key id differs from the loaded one. Blocking; call it off the event loop, now and then.
     * Connections already open keep their context; new ones get the new certificate.
     *
     * @return true when the contexts were rebuilt.
     */
    public boolean reloadIfChanged()
    {
        final Map<String, byte[]> loaded = loadedKeyIds;
        if (loaded.isEmpty())
        {
            return false;
        }
        for (final String name : spec.certificateNames())
        {
            final CertificateChain chain;
            try
            {
                chain = fetch(name);
            }
            catch (final KeyServerUnavailable ex)
            {
                return false; // key server down or entry removed: keep serving what was loaded (the sign step decides)
            }
            if (!Arrays.equals(chain.keyId(), loaded.get(name)))
            {
                LOG.log(Level.INFO, "certificate " + name + " changed in the key server: rebuilding TLS contexts");
                return load();
            }
        }
        return false;
    }

    public boolean isReady()
    {
        return "ready".equals(readiness);
    }

    /**
     * @return "ready" or why the listener cannot serve TLS yet (for the node's health output).
     */
    public String readiness()
    {
        return readiness;
    }

    /**
     * @param certificateName a name from the spec.
     * @return its context, or null before {@link #load()} succeeded.
     */
    public SslContext context(final String certificateName)
    {
        return contexts.get(certificateName);
    }

    /**
     * @return a new SniHandler (one per accepted connection) choosing by SNI, falling back to the first certificate.
     */
    public SniHandler newSniHandler()
    {
        final Mapping<String, SslContext> m = sniMapping;
        if (m == null)
        {
            throw new IllegalStateException("TLS contexts not loaded: " + readiness);
        }
        return new SniHandler(m);
    }

    /**
     * The SNI choice alone, for a proxy that installs its own SniHandler (l7-proxy's {@code TlsContexts} seam:
     * {@code keyless::contextFor}); add {@link #newAlertHandler()} right after that SniHandler.
     *
     * @param sniHostName the client's server name, or null.
     * @return the context of the certificate covering it, else the first certificate's.
     */
    public SslContext contextFor(final String sniHostName)
    {
        final Mapping<String, SslContext> m = sniMapping;
        if (m == null)
        {
            throw new IllegalStateException("TLS contexts not loaded: " + readiness);
        }
        return m.map(sniHostName);
    }

    /**
     * @return a handler that sends the alert BoringSSL omits when the key server fails a handshake (one per channel).
     */
    public KeyServerAlertHandler newAlertHandler()
    {
        return new KeyServerAlertHandler(alertsSent);
    }

    /**
     * Add this listener's TLS stage to a new connection's pipeline: the SNI handler (which becomes the SslHandler) and
     * the alert sender for key-server failures. Add HTTP handlers after it.
     *
     * @param pipeline the accepted channel's pipeline.
     */
    public void addTo(final ChannelPipeline pipeline)
    {
        pipeline.addLast(newSniHandler(), newAlertHandler());
    }

    public long ticketRefreshIntervalMs()
    {
        return ticketRefreshIntervalMs;
    }

    /**
     * Fetch the current ticket keys and install them in every context, without blocking the caller (safe on an event
     * loop): the keys are installed on the key-server client's thread when they arrive.
     *
     * @return completes with true once installed, false when the key server could not be asked.
     */
    public CompletableFuture<Boolean> refreshTicketKeys()
    {
        return client.ticketKeys().handle((keys, error) ->
        {
            if (error != null)
            {
                LOG.log(Level.WARNING, "cannot refresh session ticket keys: " + error.getMessage());
                return false;
            }
            final OpenSslSessionTicketKey[] array = new OpenSslSessionTicketKey[keys.keys().size()];
            for (int i = 0; i < array.length; i++)
            {
                final byte[] k = keys.keys().get(i);
                array[i] = new OpenSslSessionTicketKey(slice(k, 0), slice(k, 16), slice(k, 32));
            }
            for (final SslContext ctx : contexts.values())
            {
                ((OpenSslSessionContext)ctx.sessionContext()).setTicketKeys(array);
            }
            // ask again just after the next rotation instant (and at least every minute), so nodes switch together
            ticketRefreshIntervalMs = Math.max(1000, Math.min(60_000, keys.msUntilNextRotation() + 50));
            return true;
        });
    }

    private SslContext build(final CertificateChain chain, final X509Certificate[] trust) throws SSLException
    {
        final OpenSslX509KeyManagerFactory kmf;
        try
        {
            kmf = OpenSslX509KeyManagerFactory.newKeyless(chain.certificates().toArray(X509Certificate[]::new));
        }
        catch (final Exception ex)
        {
            throw new SSLException("keyless key manager for " + chain.name() + " failed", ex);
        }
        final SslContextBuilder b = SslContextBuilder.forServer(kmf)
            .sslProvider(SslProvider.OPENSSL)
            .protocols(spec.policy().protocols())
            .ciphers(spec.policy().ciphers())
            .option(OpenSslContextOption.ASYNC_PRIVATE_KEY_METHOD, new KeyServerPrivateKeyMethod(client, chain.keyId(), keyFailures))
            .applicationProtocolConfig(new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                spec.http2()
                    ? new String[] {ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1}
                    : new String[] {ApplicationProtocolNames.HTTP_1_1}));
        if (trust != null)
        {
            b.trustManager(trust).clientAuth(ClientAuth.REQUIRE);
        }
        return b.build();
    }

    private void awaitTicketKeys() throws KeyServerUnavailable
    {
        try
        {
            if (!refreshTicketKeys().get(FETCH_TIMEOUT_MS, TimeUnit.MILLISECONDS))
            {
                throw new KeyServerUnavailable("session ticket keys: key server did not provide them");
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new KeyServerUnavailable("interrupted while fetching session ticket keys");
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            throw new KeyServerUnavailable("session ticket keys: " + ex.getMessage());
        }
    }

    private CertificateChain fetch(final String name) throws KeyServerUnavailable
    {
        try
        {
            return client.getChain(name).get(FETCH_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new KeyServerUnavailable("interrupted while fetching certificate " + name);
        }
        catch (final ExecutionException ex)
        {
            throw new KeyServerUnavailable("certificate " + name + ": " + ex.getCause().getMessage());
        }
        catch (final TimeoutException ex)
        {
            throw new KeyServerUnavailable("certificate " + name + ": key server did not answer in " + FETCH_TIMEOUT_MS + " ms");
        }
    }

    private static List<String> dnsNames(final X509Certificate leaf) throws CertificateParsingException
    {
        final List<String> names = new ArrayList<>();
        final Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        if (sans != null)
        {
            for (final List<?> san : sans)
            {
                if (san.get(0) instanceof Integer type && type == 2)
                {
                    names.add(san.get(1).toString());
                }
            }
        }
        return names;
    }

    private static byte[] slice(final byte[] key, final int from)
    {
        final byte[] out = new byte[16];
        System.arraycopy(key, from, out, 0, 16);
        return out;
    }

    private static final class KeyServerUnavailable extends Exception
    {
        KeyServerUnavailable(final String message)
        {
            super(message, null, false, false);
        }
    }
}
