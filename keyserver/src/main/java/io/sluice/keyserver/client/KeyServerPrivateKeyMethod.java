package io.sluice.keyserver.client;

import java.util.concurrent.CompletableFuture;

import javax.net.ssl.SSLEngine;

import org.agrona.concurrent.status.AtomicCounter;

import io.netty.handler.ssl.OpenSslAsyncPrivateKeyMethod;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;

/**
 * BoringSSL's private-key step for one certificate, sent to the key server. BoringSSL calls this on the event loop
 * and suspends the handshake until the future completes (on the key-server client's poller thread); a failure
 * (key server down, unknown key) aborts the handshake with an alert.
 */
public final class KeyServerPrivateKeyMethod implements OpenSslAsyncPrivateKeyMethod
{
    private final KeyServerClient client;
    private final byte[] keyId;
    private final AtomicCounter failures;

    /**
     * @param client the key server client.
     * @param keyId SHA-256 of the certificate the context serves.
     * @param failures counted once per failed key operation (may be null).
     */
    public KeyServerPrivateKeyMethod(final KeyServerClient client, final byte[] keyId, final AtomicCounter failures)
    {
        this.client = client;
        this.keyId = keyId.clone();
        this.failures = failures;
    }

    @Override
    public Future<byte[]> sign(final SSLEngine engine, final int signatureAlgorithm, final byte[] input)
    {
        return adapt(client.sign(keyId, signatureAlgorithm, input));
    }

    @Override
    public Future<byte[]> decrypt(final SSLEngine engine, final byte[] input)
    {
        return adapt(client.decrypt(keyId, input));
    }

    private Future<byte[]> adapt(final CompletableFuture<byte[]> result)
    {
        final Promise<byte[]> promise = ImmediateEventExecutor.INSTANCE.newPromise();
        result.whenComplete((value, error) ->
        {
            if (error == null)
            {
                promise.trySuccess(value);
            }
            else
            {
                if (failures != null)
                {
                    failures.increment();
                }
                promise.tryFailure(error);
            }
        });
        return promise;
    }
}
