package io.sluice.keyserver.client;

import org.agrona.concurrent.status.AtomicCounter;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

/**
 * Sends a fatal internal_error alert when a handshake fails because the key server could not sign or decrypt.
 * BoringSSL aborts such a handshake silently (ssl_private_key_failure returns ssl_hs_error without an alert), which a
 * client sees as an unexplained EOF. The failed private-key step always precedes the server's flight being flushed
 * (BoringSSL buffers the whole flight), so a plaintext alert record is what the client expects at that point in every
 * TLS version. Sits right after the SniHandler/SslHandler; writes under the SslHandler, straight to the socket.
 */
public final class KeyServerAlertHandler extends ChannelInboundHandlerAdapter
{
    /** TLS record: content type alert (21), legacy version 3.3, length 2, level fatal (2), description internal_error (80). */
    private static final byte[] INTERNAL_ERROR_ALERT = {21, 3, 3, 0, 2, 2, 80};

    private final AtomicCounter alertsSent;

    /**
     * @param alertsSent counted per alert (may be null).
     */
    public KeyServerAlertHandler(final AtomicCounter alertsSent)
    {
        this.alertsSent = alertsSent;
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt) throws Exception
    {
        if (evt instanceof SslHandshakeCompletionEvent done)
        {
            if (!done.isSuccess() && isPrivateKeyFailure(done.cause()))
            {
                final ChannelHandlerContext sslContext = ctx.pipeline().context(SslHandler.class);
                if (sslContext != null)
                {
                    sslContext.writeAndFlush(Unpooled.wrappedBuffer(INTERNAL_ERROR_ALERT));
                    if (alertsSent != null)
                    {
                        alertsSent.increment();
                    }
                }
            }
            ctx.pipeline().remove(this);
        }
        super.userEventTriggered(ctx, evt);
    }

    static boolean isPrivateKeyFailure(final Throwable cause)
    {
        for (Throwable t = cause; t != null; t = t.getCause())
        {
            if (t instanceof KeyServerException)
            {
                return true;
            }
            final String m = t.getMessage();
            if (m != null && m.toUpperCase().contains("PRIVATE_KEY_OPERATION_FAILED"))
            {
                return true;
            }
        }
        return false;
    }
}
