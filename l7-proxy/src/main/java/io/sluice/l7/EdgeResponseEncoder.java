package io.sluice.l7;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Response encoder that knows when the response answers a HEAD request, so a chunked HEAD response gets no body or
 * terminating chunk (HttpServerCodec pairs decoder and encoder for this; the proxy uses its own strict decoder).
 */
final class EdgeResponseEncoder extends HttpResponseEncoder
{
    boolean headRequest;

    @Override
    protected boolean isContentAlwaysEmpty(final HttpResponse msg)
    {
        return headRequest || super.isContentAlwaysEmpty(msg);
    }
}
