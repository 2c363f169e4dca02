package io.sluice.l7;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * The client-facing request decoder, strict where request smuggling lives: a request carrying both Content-Length and
 * Transfer-Encoding is refused (Netty's default drops the Content-Length and carries on, which a backend that reads the
 * length instead would split differently). Strict line parsing and RFC 9112 Transfer-Encoding rules are on.
 */
final class EdgeRequestDecoder extends HttpRequestDecoder
{
    static final String CONFLICTING_LENGTH = "both Content-Length and Transfer-Encoding";

    EdgeRequestDecoder(final int maxHeaderBytes)
    {
        super(new HttpDecoderConfig()
            .setMaxInitialLineLength(Math.min(maxHeaderBytes, 16_384))
            .setMaxHeaderSize(maxHeaderBytes)
            .setMaxChunkSize(16_384)
            .setStrictLineParsing(true)
            .setUseRfc9112TransferEncoding(true)
            .setAllowDuplicateContentLengths(false)
            .setValidateHeaders(true));
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(final HttpMessage message)
    {
        throw new SmugglingException();
    }

    /** Decoder failure cause for a request framed two ways. */
    static final class SmugglingException extends IllegalArgumentException
    {
        SmugglingException()
        {
            super(CONFLICTING_LENGTH);
        }
    }
}
