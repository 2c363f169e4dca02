package io.sluice.l7;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The client side of one HTTP/1.1 connection and the exchange it is in. One exchange at a time: a pipelined request waits
 * in {@code pending} until the previous response is complete. Backpressure both ways: the client channel is read (with
 * AUTO_READ off) only after the previous piece reached the backend's socket, and the backend is read only after the
 * previous response piece reached the client's socket. The backend connection runs on this channel's event loop, so no
 * state here is shared across threads.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter
{
    private enum State
    {
        /** Waiting for a request head. */
        IDLE,
        /** Head received, choosing and connecting to a backend; body pieces queue. */
        CONNECTING,
        /** Head reached the backend; body streams, then the response streams back. */
        FORWARDING,
        /** Answered locally (redirect) while the request body still arrives: drop it. */
        DISCARDING,
        /** After 101 Switching Protocols: raw bytes both ways. */
        TUNNEL,
        CLOSED
    }

    // AsciiString names: their hash is computed once, not on every header lookup of every request
    private static final AsciiString HOP_BY_HOP_KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_REAL_IP = AsciiString.cached("x-real-ip");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
    private static final AsciiString X_SLUICE_LB = AsciiString.cached("x-sluice-lb");
    private static final AsciiString X_SLUICE_VIP = AsciiString.cached("x-sluice-vip");
    /** An array walked by index: a List's iterator was garbage on every request and response. */
    private static final AsciiString[] HOP_BY_HOP = {HttpHeaderNames.CONNECTION, HOP_BY_HOP_KEEP_ALIVE,
        AsciiString.cached("proxy-connection"), HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE,
        HttpHeaderNames.PROXY_AUTHENTICATE, HttpHeaderNames.PROXY_AUTHORIZATION};

    private final ListenerRuntime listener;
    private final TransportSupport transport;
    private final AccessLog accessLog;
    private final EdgeResponseEncoder encoder;
    private HeaderTimeoutHandler headerTimer;
    private ChannelHandlerContext ctx;
    private Channel inbound;
    private String clientIp;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    /** One listener per connection for every request head's write (a lambda per request was garbage). */
    private final ChannelFutureListener onHeadWritten = this::headWritten;
    private State state = State.IDLE;
    private boolean inRead;
    private boolean backendFlushPending;
    /** The request head was handed to the backend channel and its write has not completed yet. */
    private boolean headInFlight;
    private boolean draining;

    private ListenerRuntime.Snapshot snapshot;
    private HttpRequest request;
    private HttpVersion clientVersion = HttpVersion.HTTP_1_1;
    private GroupRuntime group;
    private ServerState server;
    private Channel backend;
    private Channel dedicatedBackend;
    private long triedMask;
    private int attempts;
    private boolean requestComplete;
    private boolean responseStarted;
    private boolean interimResponse;
    private boolean backendReusable;
    private boolean clientKeepAlive;
    private boolean upgrade;
    private boolean inFlightCounted;
    private long bodyBytes;
    private long responseBytes;
    private long startNanos;
    private int status;
    private String stickyInsertId;
    private ScheduledFuture<?> requestTimer;
    private long requestDeadlineNanos;
    /** Body-rate floor: bytes of the current window, and whether the proxy stopped reading in it (backpressure). */
    private ScheduledFuture<?> bodyRateTimer;
    private long bodyWindowBytes;
    private boolean bodyWindowBackpressured;

    FrontendHandler(final ListenerRuntime listener, final TransportSupport transport, final AccessLog accessLog,
        final EdgeResponseEncoder encoder)
    {
        this.listener = listener;
        this.transport = transport;
        this.accessLog = accessLog;
        this.encoder = encoder;
    }

    void headerTimer(final HeaderTimeoutHandler timer)
    {
        this.headerTimer = timer;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
        this.inbound = ctx.channel();
        if (inbound.remoteAddress() instanceof InetSocketAddress remote)
        {
            clientIp = remote.getAddress().getHostAddress();
        }
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx)
    {
        inbound.read();
        ctx.fireChannelActive();
    }

    // ---------------------------------------------------------------- client → proxy

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        inRead = true;
        if (state == State.TUNNEL && msg instanceof ByteBuf buf)
        {
            relay(buf, backend, inbound);
            return;
        }
        if (state == State.CLOSED)
        {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof FullHttpRequest full)
        {
            // HTTP/2 streams deliver a bodyless request whole: head and end of body are handled (and retried) apart
            final DefaultHttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
            head.setDecoderResult(full.decoderResult());
            channelRead(ctx, head);
            channelRead(ctx, new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
            return;
        }
        if (state == State.CONNECTING && headInFlight && pending.isEmpty() && msg instanceof LastHttpContent last &&
            !(msg instanceof HttpRequest) && !last.content().isReadable() && last.trailingHeaders().isEmpty())
        {
            // the end of a bodyless request (every GET) follows its head out in the same flush rather than waiting for the
            // head's write to complete; nothing of the client's is consumed, so a retry stays possible (sendHead resends it)
            requestComplete = true;
            forwardToBackend(msg);
            return;
        }
        if (!pending.isEmpty() || !accepts(msg))
        {
            pending.add(msg);
            return;
        }
        handle(msg);
    }

    /** Writes to the backend; flushed once at the end of the client read batch, or now outside a read. */
    private void forwardToBackend(final Object msg)
    {
        final Channel target = backend;
        if (inRead)
        {
            backendFlushPending = true;
            target.write(msg, target.voidPromise());
        }
        else
        {
            target.writeAndFlush(msg, target.voidPromise());
        }
    }

    @Override
    public void channelReadComplete(final ChannelHandlerContext ctx)
    {
        inRead = false;
        if (backendFlushPending)
        {
            backendFlushPending = false;
            if (backend != null)
            {
                backend.flush();
            }
        }
        if (state == State.IDLE && pending.isEmpty())
        {
            // a read that produced only part of a head: keep reading
            inbound.read();
        }
    }

    private boolean accepts(final Object msg)
    {
        return switch (state)
        {
            case IDLE -> true;
            case FORWARDING -> !requestComplete && !(msg instanceof HttpRequest);
            case DISCARDING -> !(msg instanceof HttpRequest);
            default -> false;
        };
    }

    private void handle(final Object msg)
    {
        if (msg instanceof HttpRequest req)
        {
            onRequestHead(req);
            if (msg instanceof HttpContent content)
            {
                onRequestContent(content);
            }
        }
        else if (msg instanceof HttpContent content)
        {
            onRequestContent(content);
        }
        else
        {
            ReferenceCountUtil.release(msg);
        }
    }

    private void drainPending()
    {
        while (!pending.isEmpty() && state != State.CLOSED && accepts(pending.peek()))
        {
            handle(pending.poll());
        }
        maybeRead();
    }

    private void maybeRead()
    {
        if (pending.isEmpty() && inbound.isActive() &&
            (state == State.IDLE || state == State.DISCARDING || (state == State.FORWARDING && !requestComplete)))
        {
            inbound.read();
        }
    }

    private void onRequestHead(final HttpRequest req)
    {
        startNanos = System.nanoTime();
        snapshot = listener.snapshot;
        final ListenerCounters counters = listener.counters;
        if (req.decoderResult().cause() instanceof PrematureChannelClosureException)
        {
            // The client closed the connection with its head unfinished: no request, and nobody to answer (the
            // decoder reports it as the connection goes; channelInactive follows and ends the rest).
            counters.clientClosed.increment();
            return;
        }
        counters.requests.increment();
        if (headerTimer != null)
        {
            headerTimer.headComplete();
        }
        if (req.decoderResult().isFailure())
        {
            rejectMalformed(req.decoderResult().cause());
            return;
        }
        final HttpHeaders headers = req.headers();
        final String transferEncoding = headers.get(HttpHeaderNames.TRANSFER_ENCODING);
        if (transferEncoding != null && !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(transferEncoding.trim()))
        {
            reject(HttpResponseStatus.BAD_REQUEST, counters.smuggling);
            return;
        }
        // counted without a list (getAll built one per request): zero or one Host, and HTTP/1.1 needs one
        final Iterator<? extends CharSequence> hostValues = headers.valueCharSequenceIterator(HttpHeaderNames.HOST);
        final CharSequence hostValue = hostValues.hasNext() ? hostValues.next() : null;
        if (hostValues.hasNext() || (hostValue == null && req.protocolVersion().equals(HttpVersion.HTTP_1_1)))
        {
            reject(HttpResponseStatus.BAD_REQUEST, counters.badRequest);
            return;
        }
        final HttpListener config = snapshot.config();
        final long contentLength = HttpUtil.getContentLength(req, -1L);
        if (contentLength > config.maxBodyBytes())
        {
            reject(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, counters.bodyTooLarge);
            return;
        }
        request = req;
        clientVersion = req.protocolVersion();
        clientKeepAlive = HttpUtil.isKeepAlive(req) && !draining;
        encoder.headRequest = HttpMethod.HEAD.equals(req.method());
        requestComplete = false;
        bodyBytes = 0;
        final String uri = req.uri();
        final int query = uri.indexOf('?');
        final String path = query >= 0 ? uri.substring(0, query) : uri;
        final String host = hostValue == null ? null : hostValue.toString();
        final Router.Route route = snapshot.router().route(host, path);
        if (route.redirect() != null)
        {
            redirect(route.redirect(), host, uri);
            return;
        }
        group = route.group();
        if (inbound instanceof Http2StreamChannel && ExtendedConnectHandler.isWebSocket(inbound))
        {
            // RFC 8441 extended CONNECT, already rewritten to a GET: the HTTP/1.1 upgrade headers go to the backend
            headers.set(HttpHeaderNames.UPGRADE, ExtendedConnectHandler.WEBSOCKET);
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }
        upgrade = isUpgrade(headers);
        prepareUpstreamHeaders(req, config);
        triedMask = 0;
        attempts = 0;
        state = State.CONNECTING;
        connectAndSend();
    }

    private void onRequestContent(final HttpContent content)
    {
        final boolean last = content instanceof LastHttpContent;
        if (state == State.DISCARDING)
        {
            content.release();
            if (last)
            {
                state = State.IDLE;
                exchangeDone();
            }
            return;
        }
        if (state != State.FORWARDING)
        {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure())
        {
            content.release();
            abortExchange(HttpResponseStatus.BAD_REQUEST, listener.counters.badRequest);
            return;
        }
        final int pieceBytes = content.content().readableBytes();
        bodyBytes += pieceBytes;
        bodyWindowBytes += pieceBytes;
        if (bodyBytes > snapshot.config().maxBodyBytes())
        {
            content.release();
            abortExchange(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, listener.counters.bodyTooLarge);
            return;
        }
        if (last)
        {
            requestComplete = true;
            cancelBodyRateTimer();
        }
        // a failed write surfaces as exceptionCaught on the backend, which closes it: onBackendClosed follows
        final Channel target = backend;
        forwardToBackend(content);
        if (!last)
        {
            if (target.isWritable())
            {
                maybeRead();
            }
            else
            {
                bodyWindowBackpressured = true;
            }
        }
    }

    /** The backend's outbound buffer drained below its low-water mark: the client may send more body. */
    void onBackendWritable(final Channel source)
    {
        if (source == backend && state == State.FORWARDING && !requestComplete)
        {
            maybeRead();
        }
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx)
    {
        final Channel source = backend;
        if (inbound.isWritable() && source != null && responseStarted && state == State.FORWARDING)
        {
            source.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private io.netty.channel.ChannelFuture writeBackend(final Object msg)
    {
        if (inRead)
        {
            backendFlushPending = true;
            return backend.write(msg);
        }
        return backend.writeAndFlush(msg);
    }

    // ---------------------------------------------------------------- choosing and reaching a backend

    private void connectAndSend()
    {
        final HttpListener config = snapshot.config();
        final Upstream upstream = snapshot.upstream();
        final long now = System.nanoTime();
        ServerState chosen = null;
        stickyInsertId = null;
        final StickySession sticky = config.stickySession();
        if (sticky != null)
        {
            final String cookieName = sticky.type() == StickySession.Type.INSERT ? StickySession.INSERT_COOKIE_NAME : sticky.cookieName();
            final String value = Cookies.requestCookie(request.headers(), cookieName);
            String id = value;
            if (value != null && sticky.type() == StickySession.Type.SERVER)
            {
                final int dot = value.indexOf('.');
                id = dot > 0 ? value.substring(0, dot) : null;
            }
            if (value != null && sticky.type() == StickySession.Type.SERVER && id != null)
            {
                Cookies.stripServerPrefix(request.headers(), sticky.cookieName());
            }
            final ServerState wanted = id == null || group == null ? null : group.byId(id);
            if (wanted != null && excludedIndex(wanted) && wanted.available(now, upstream.maxConnectionsPerServer()))
            {
                chosen = wanted;
            }
        }
        if (chosen == null)
        {
            chosen = group == null ? null : group.pick(hashKey(config), triedMask, now, upstream.maxConnectionsPerServer());
            if (chosen != null && sticky != null && sticky.type() == StickySession.Type.INSERT)
            {
                stickyInsertId = chosen.id;
            }
        }
        if (chosen == null)
        {
            abortExchange(HttpResponseStatus.SERVICE_UNAVAILABLE, listener.counters.noBackend);
            return;
        }
        server = chosen;
        final int index = group.indexOf(chosen);
        if (index >= 0 && index < 64)
        {
            triedMask |= 1L << index;
        }
        final Channel idle = takeIdle(chosen);
        if (idle != null)
        {
            listener.counters.poolReuses.increment();
            attach(idle, true);
            sendHead();
            return;
        }
        if (group.http2)
        {
            openHttp2Stream(chosen, config);
            return;
        }
        openConnection(chosen, config, upstream);
    }

    private void openHttp2Stream(final ServerState chosen, final HttpListener config)
    {
        final BackendHandler handler = new BackendHandler(chosen);
        handler.frontend = this;
        H2Upstream.openStream(listener, transport, inbound.eventLoop(), chosen, config, group, handler).addListener(f ->
        {
            if (state != State.CONNECTING || server != chosen)
            {
                handler.frontend = null;
                if (f.isSuccess())
                {
                    ((Channel)f.getNow()).close();
                }
                return;
            }
            if (!f.isSuccess())
            {
                onConnectFailure(chosen);
                return;
            }
            attach((Channel)f.getNow(), false);
            sendHead();
        });
    }

    /** Lets a retry choose this server again. */
    private void untry(final ServerState failed)
    {
        final int index = failed == null || group == null ? -1 : group.indexOf(failed);
        if (index >= 0 && index < 64)
        {
            triedMask &= ~(1L << index);
        }
    }

    private boolean excludedIndex(final ServerState wanted)
    {
        final int index = group.indexOf(wanted);
        return index < 0 || index >= 64 || (triedMask & (1L << index)) == 0;
    }

    private String hashKey(final HttpListener config)
    {
        if (config.scheduler() != SchedulerType.HASH)
        {
            return null;
        }
        return switch (config.hashKey().source())
        {
            case IP -> clientIp;
            case HEADER -> request.headers().get(config.hashKey().name());
            case COOKIE -> Cookies.requestCookie(request.headers(), config.hashKey().name());
        };
    }

    private Channel takeIdle(final ServerState chosen)
    {
        if (snapshot.config().proxyProtocol())
        {
            final Channel dedicated = dedicatedBackend;
            if (dedicated != null && dedicated.isActive() && ((BackendHandler)dedicated.pipeline().last()).server == chosen)
            {
                dedicatedBackend = null;
                return dedicated;
            }
            return null;
        }
        final ArrayDeque<Channel> idle = listener.idlePool.get().get(chosen.key);
        if (idle == null)
        {
            return null;
        }
        Channel channel;
        while ((channel = idle.pollFirst()) != null)
        {
            chosen.idleConnections.decrementAndGet();
            if (channel.isActive())
            {
                return channel;
            }
        }
        return null;
    }

    private void openConnection(final ServerState chosen, final HttpListener config, final Upstream upstream)
    {
        listener.counters.backendConnects.increment();
        final BackendHandler handler = new BackendHandler(chosen);
        handler.frontend = this;
        final GroupRuntime tlsGroup = group.sslContext == null ? null : group;
        final Bootstrap bootstrap = new Bootstrap()
            .group(inbound.eventLoop())
            .channel(transport.socketChannelClass())
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, config.timeouts().connectTimeoutMillis())
            .handler(new ChannelInitializer<>()
            {
                @Override
                protected void initChannel(final Channel ch)
                {
                    if (tlsGroup != null)
                    {
                        ch.pipeline().addLast("tls", tlsGroup.tls.newHandler(tlsGroup.sslContext, ch.alloc(),
                            chosen.address.getAddress().getHostAddress(), chosen.address.getPort()));
                    }
                    ch.pipeline().addLast("codec", new HttpClientCodec(4096, 65_536, 16_384));
                    // an idle pooled connection is closed before the backend's own keep-alive timeout is likely to race us
                    // reader idle only: no per-write listener; a pooled connection is idle when nothing arrives
                    ch.pipeline().addLast("idle", new IdleStateHandler(config.timeouts().idleTimeoutSeconds(), 0, 0));
                    ch.pipeline().addLast("backend", handler);
                    ch.closeFuture().addListener(f -> pruneIdle(listener, chosen, ch));
                }
            });
        bootstrap.connect(chosen.address).addListener((ChannelFutureListener)f ->
        {
            if (state != State.CONNECTING || server != chosen)
            {
                handler.frontend = null;
                f.channel().close();
                return;
            }
            if (!f.isSuccess())
            {
                onConnectFailure(chosen);
                return;
            }
            final Channel ch = f.channel();
            attach(ch, false);
            if (config.proxyProtocol())
            {
                // under the TLS handler, if any: the PROXY header precedes the ClientHello on the wire
                ch.pipeline().firstContext().write(ProxyProtocolV2.header(ch.alloc(),
                    (InetSocketAddress)inbound.remoteAddress(), (InetSocketAddress)inbound.localAddress()));
            }
            if (tlsGroup == null)
            {
                sendHead();
                return;
            }
            ch.read();
            // a failed handshake (certificate refused, no TLS on the port) is a connect failure: retried elsewhere
            ch.pipeline().get(io.netty.handler.ssl.SslHandler.class).handshakeFuture().addListener(h ->
            {
                if (state != State.CONNECTING || backend != ch)
                {
                    return;
                }
                if (!h.isSuccess())
                {
                    detachBackend(false);
                    onConnectFailure(chosen);
                    return;
                }
                sendHead();
            });
        });
    }

    private void onConnectFailure(final ServerState failed)
    {
        final ListenerCounters counters = listener.counters;
        counters.connectFailures.increment();
        if (failed.onFailure(System.nanoTime(), snapshot.upstream()))
        {
            counters.ejections.increment();
        }
        if (attempts < snapshot.upstream().maxRetries() && inbound.isActive())
        {
            attempts++;
            counters.retries.increment();
            connectAndSend();
            return;
        }
        abortExchange(HttpResponseStatus.BAD_GATEWAY, counters.backendErrors);
    }

    private void attach(final Channel ch, final boolean reused)
    {
        backend = ch;
        final BackendHandler handler = (BackendHandler)ch.pipeline().last();
        handler.frontend = this;
        handler.reused = reused;
    }

    private void sendHead()
    {
        final ServerState chosen = server;
        chosen.inFlight.incrementAndGet();
        chosen.requests.increment();
        chosen.requestCount.incrementAndGet();
        inFlightCounted = true;
        responseStarted = false;
        interimResponse = false;
        backendReusable = true;
        responseBytes = 0;
        final io.netty.channel.ChannelFuture headWrite = writeBackend(request);
        headInFlight = true;
        if (requestComplete)
        {
            // a retry of a bodyless request whose end was already sent on the failed connection: this connection's
            // encoder needs the end of the message too, or the next request on it would be refused
            forwardToBackend(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        headWrite.addListener(onHeadWritten);
    }

    /**
     * {@link #onHeadWritten}: the head's write completed. The channel it was written to is the future's; while that is
     * still our backend, {@link #server} is still the server it leads to (both change only together).
     */
    private void headWritten(final io.netty.channel.ChannelFuture f)
    {
        final Channel target = f.channel();
        if (target != backend || state != State.CONNECTING)
        {
            return;
        }
        headInFlight = false;
        if (!f.isSuccess())
        {
            // never reached the backend (a pooled connection closed under us): try again
            final ServerState chosen = server;
            detachBackend(true);
            onConnectFailure(chosen);
            return;
        }
        state = State.FORWARDING;
        armRequestTimer(TimeUnit.SECONDS.toNanos(snapshot.config().timeouts().requestTimeoutSeconds()));
        target.read();
        drainPending();
        if (state == State.FORWARDING && !requestComplete)
        {
            armBodyRateTimer();
        }
    }

    // ---------------------------------------------------------------- backend → client

    void onResponseHead(final Channel source, final HttpResponse response)
    {
        if (source != backend || state != State.FORWARDING)
        {
            source.close();
            return;
        }
        final int code = response.status().code();
        if (code >= 100 && code < 200 && code != 101)
        {
            // an interim answer (100 Continue, 103 Early Hints) goes out whole: head and end in one message, which is
            // what both the HTTP/1 encoder and the HTTP/2 stream codec expect; the backend's own end of it is dropped
            interimResponse = true;
            stripHopByHop(response.headers());
            inbound.write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), Unpooled.EMPTY_BUFFER,
                response.headers(), EmptyHttpHeaders.INSTANCE), inbound.voidPromise());
            return;
        }
        cancelRequestTimer();
        responseStarted = true;
        status = code;
        final long micros = (System.nanoTime() - startNanos) / 1_000;
        listener.latencyMicros.recordValue(micros);
        server.latencyMicros.recordValue(micros);
        server.onSuccess();
        listener.counters.countStatus(code);
        final HttpHeaders headers = response.headers();
        headers.remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
        backendReusable = HttpUtil.isKeepAlive(response) && code != 101;
        if (code == 101)
        {
            if (!upgrade)
            {
                backendReusable = false;
                source.close();
                return;
            }
            listener.counters.upgrades.increment();
            final String upgradeTo = headers.get(HttpHeaderNames.UPGRADE);
            stripHopByHop(headers);
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            if (upgradeTo != null)
            {
                headers.set(HttpHeaderNames.UPGRADE, upgradeTo);
            }
        }
        else
        {
            stripHopByHop(headers);
            final boolean bodyless = encoder.headRequest || code == 204 || code == 304;
            if (!bodyless && !HttpUtil.isContentLengthSet(response))
            {
                if (clientVersion.equals(HttpVersion.HTTP_1_1))
                {
                    HttpUtil.setTransferEncodingChunked(response, true);
                }
                else
                {
                    // an HTTP/1.0 client cannot read chunks: send the body as is and let the close delimit it
                    HttpUtil.setTransferEncodingChunked(response, false);
                    clientKeepAlive = false;
                }
            }
            if (draining)
            {
                clientKeepAlive = false;
            }
            if (!clientKeepAlive)
            {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            else if (!clientVersion.equals(HttpVersion.HTTP_1_1))
            {
                headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            final StickySession sticky = snapshot.config().stickySession();
            if (stickyInsertId != null)
            {
                headers.add(HttpHeaderNames.SET_COOKIE, StickySession.INSERT_COOKIE_NAME + "=" + stickyInsertId + "; Max-Age=" +
                    sticky.cookieTimeoutSeconds() + "; Path=/; HttpOnly");
            }
            else if (sticky != null && sticky.type() == StickySession.Type.SERVER)
            {
                Cookies.prefixSetCookie(headers, sticky.cookieName(), server.id);
            }
        }
        // our own version, as RFC 9110 2.5 asks, whatever the backend spoke; framing above follows the client's version
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (code == 101 && inbound instanceof Http2StreamChannel && ExtendedConnectHandler.answerUpgrade(inbound, response))
        {
            // RFC 8441: the WebSocket opened over an HTTP/2 stream is answered 200, and the stream carries the frames
            source.read();
            return;
        }
        inbound.write(response, inbound.voidPromise());
        if (inbound.isWritable())
        {
            source.read();
        }
    }

    void onResponseContent(final Channel source, final HttpContent content)
    {
        if (source != backend)
        {
            content.release();
            return;
        }
        final boolean last = content instanceof LastHttpContent;
        if (interimResponse)
        {
            if (last)
            {
                interimResponse = false;
            }
            content.release();
            source.read();
            return;
        }
        if (!responseStarted)
        {
            content.release();
            return;
        }
        if (status == 101 && last && inbound instanceof Http2StreamChannel)
        {
            // the end of a 101 is no end of the stream: HTTP/2 would end the stream on it
            content.release();
            enterTunnel();
            return;
        }
        responseBytes += content.content().readableBytes();
        // backpressure: the backend is read again while the client's outbound buffer is below its high-water mark;
        // otherwise channelWritabilityChanged resumes it
        inbound.write(content, inbound.voidPromise());
        if (!last)
        {
            if (inbound.isWritable())
            {
                source.read();
            }
            return;
        }
        if (status == 101)
        {
            enterTunnel();
            return;
        }
        finishExchange();
    }

    void flushClient()
    {
        inbound.flush();
    }

    void onBackendClosed(final Channel source)
    {
        if (source != backend)
        {
            return;
        }
        if (state == State.TUNNEL)
        {
            backend = null;
            inbound.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            state = State.CLOSED;
            return;
        }
        final BackendHandler handler = (BackendHandler)source.pipeline().get("backend");
        final boolean reused = handler != null && handler.reused;
        final ServerState failed = server;
        detachBackend(false);
        if (state == State.CONNECTING)
        {
            // a pooled connection closed as we handed it the request: nothing reached the backend
            if (attempts < snapshot.upstream().maxRetries())
            {
                if (reused)
                {
                    untry(failed);
                }
                attempts++;
                listener.counters.retries.increment();
                connectAndSend();
            }
            else
            {
                abortExchange(HttpResponseStatus.BAD_GATEWAY, listener.counters.backendErrors);
            }
            return;
        }
        if (!responseStarted)
        {
            final boolean idempotent = HttpMethod.GET.equals(request.method()) || HttpMethod.HEAD.equals(request.method());
            if (reused && requestComplete && bodyBytes == 0 && idempotent && attempts < snapshot.upstream().maxRetries())
            {
                // a keep-alive connection the backend closed as we reused it: the request never got an answer, resend.
                // The server is not at fault (its keep-alive timeout raced our reuse): it may be chosen again, afresh
                untry(failed);
                attempts++;
                listener.counters.retries.increment();
                state = State.CONNECTING;
                connectAndSend();
                return;
            }
            if (failed != null && failed.onFailure(System.nanoTime(), snapshot.upstream()))
            {
                listener.counters.ejections.increment();
            }
            abortExchange(HttpResponseStatus.BAD_GATEWAY, listener.counters.backendErrors);
            return;
        }
        closeClient();
    }

    void onTunnelData(final Channel source, final ByteBuf buf)
    {
        if (state != State.TUNNEL && state != State.FORWARDING || source != backend)
        {
            buf.release();
            return;
        }
        relay(buf, inbound, source);
    }

    private void relay(final ByteBuf buf, final Channel to, final Channel from)
    {
        if (to == null)
        {
            buf.release();
            return;
        }
        to.writeAndFlush(buf).addListener((ChannelFutureListener)f ->
        {
            if (f.isSuccess())
            {
                from.read();
            }
            else
            {
                closeClient();
            }
        });
    }

    private void enterTunnel()
    {
        state = State.TUNNEL;
        final Channel target = backend;
        ((BackendHandler)target.pipeline().get("backend")).reused = false;
        final ChannelPipeline client = inbound.pipeline();
        inbound.flush();
        removeIfPresent(client, "encoder");
        removeIfPresent(client, "compressor");
        removeIfPresent(client, "headerTimeout");
        removeIfPresent(target.pipeline(), "codec");
        removeIfPresent(client, "decoder");
        // an HTTP/2 stream (RFC 8441 WebSocket): its ExtendedConnectHandler now maps DATA frames to raw bytes and back
        removeIfPresent(client, "h2codec");
        final Object[] queued = pending.toArray();
        pending.clear();
        for (final Object msg : queued)
        {
            if (msg instanceof ByteBuf buf)
            {
                relay(buf, target, inbound);
            }
            else
            {
                ReferenceCountUtil.release(msg);
            }
        }
        inbound.read();
        target.read();
    }

    private static void removeIfPresent(final ChannelPipeline pipeline, final String name)
    {
        if (pipeline.get(name) != null)
        {
            pipeline.remove(name);
        }
    }

    private void finishExchange()
    {
        final Channel used = backend;
        final boolean reusable = backendReusable && requestComplete;
        logExchange();
        detachBackend(reusable);
        if (reusable)
        {
            release(used);
        }
        else if (used != null)
        {
            used.close();
        }
        if (!requestComplete)
        {
            // the backend answered before the body was all sent: the rest of the body cannot be skipped reliably
            clientKeepAlive = false;
        }
        state = State.IDLE;
        exchangeDone();
    }

    private void exchangeDone()
    {
        request = null;
        encoder.headRequest = false;
        if (!clientKeepAlive)
        {
            closeClient();
            return;
        }
        if (headerTimer != null)
        {
            headerTimer.awaitNextHead();
        }
        inbound.flush();
        drainPending();
    }

    private void release(final Channel used)
    {
        if (used instanceof Http2StreamChannel)
        {
            // a finished stream ends by itself; its connection stays for the next request
            return;
        }
        if (snapshot.config().proxyProtocol())
        {
            if (dedicatedBackend != null && dedicatedBackend != used)
            {
                dedicatedBackend.close();
            }
            dedicatedBackend = used;
            used.read();
            return;
        }
        final Map<String, ArrayDeque<Channel>> pools = listener.idlePool.get();
        final ArrayDeque<Channel> idle = pools.computeIfAbsent(server.key, k -> new ArrayDeque<>());
        if (idle.size() >= snapshot.upstream().maxIdlePerServerPerLoop())
        {
            used.close();
            return;
        }
        idle.addFirst(used);
        server.idleConnections.incrementAndGet();
        // a read outstanding on an idle connection is how its close (or stray bytes) is noticed
        used.read();
    }

    /**
     * A pooled connection that closed (the backend hung up, or the reader-idle timer closed it after idleTimeoutSeconds)
     * leaves the pool at once rather than when a request next polls it. Runs on the connection's event loop, which owns
     * that loop's pool.
     */
    static void pruneIdle(final ListenerRuntime listener, final ServerState server, final Channel closed)
    {
        final ArrayDeque<Channel> idle = listener.idlePool.get().get(server.key);
        if (idle != null && idle.remove(closed))
        {
            server.idleConnections.decrementAndGet();
        }
    }

    private void detachBackend(final boolean keep)
    {
        headInFlight = false;
        cancelRequestTimer();
        cancelBodyRateTimer();
        if (inFlightCounted && server != null)
        {
            server.inFlight.decrementAndGet();
            inFlightCounted = false;
        }
        final Channel used = backend;
        backend = null;
        if (used != null)
        {
            final BackendHandler handler = (BackendHandler)used.pipeline().get("backend");
            if (handler != null)
            {
                handler.frontend = null;
            }
            if (!keep)
            {
                used.close();
            }
        }
    }

    /**
     * The request timer is lazy: one scheduled task per connection that, when it fires, re-arms itself for whatever is
     * left of the current exchange's deadline, instead of a schedule and a cancel for every request.
     */
    private void armRequestTimer(final long timeoutNanos)
    {
        requestDeadlineNanos = inbound.eventLoop().ticker().nanoTime() + timeoutNanos;
        if (requestTimer == null)
        {
            requestTimer = inbound.eventLoop().schedule(this::onRequestTimer, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void onRequestTimer()
    {
        requestTimer = null;
        if (requestDeadlineNanos == 0 || state == State.CLOSED)
        {
            return;
        }
        final long remainingNanos = requestDeadlineNanos - inbound.eventLoop().ticker().nanoTime();
        if (remainingNanos > 0)
        {
            requestTimer = inbound.eventLoop().schedule(this::onRequestTimer, remainingNanos, TimeUnit.NANOSECONDS);
            return;
        }
        requestDeadlineNanos = 0;
        if (state == State.FORWARDING && !responseStarted)
        {
            if (!requestComplete)
            {
                // the client is still sending its body (slow POST): its fault, not the backend's
                abortExchange(HttpResponseStatus.REQUEST_TIMEOUT, listener.counters.headerTimeout);
                return;
            }
            if (server != null && server.onFailure(System.nanoTime(), snapshot.upstream()))
            {
                listener.counters.ejections.increment();
            }
            abortExchange(HttpResponseStatus.GATEWAY_TIMEOUT, listener.counters.requestTimeouts);
        }
    }

    private void cancelRequestTimer()
    {
        requestDeadlineNanos = 0;
    }

    /** Only requests whose body is still arriving after the head went out (uploads) pay for a timer. */
    private void armBodyRateTimer()
    {
        final BodyRate rate = snapshot.config().minBodyRate();
        if (rate.minBytesPerSecond() == 0 || bodyRateTimer != null)
        {
            return;
        }
        bodyWindowBytes = 0;
        bodyWindowBackpressured = false;
        bodyRateTimer = inbound.eventLoop().schedule(this::onBodyRateWindow, rate.windowSeconds(), TimeUnit.SECONDS);
    }

    private void onBodyRateWindow()
    {
        bodyRateTimer = null;
        if (state != State.FORWARDING || requestComplete)
        {
            return;
        }
        final BodyRate rate = snapshot.config().minBodyRate();
        // a window the backend held up (or one in which the backend backpressured us at all) is not the client's fault
        if (bodyWindowBytes < rate.minBytesPerWindow() && !bodyWindowBackpressured && backend != null && backend.isWritable())
        {
            listener.counters.slowBody.increment();
            abortExchange(HttpResponseStatus.REQUEST_TIMEOUT, listener.counters.headerTimeout);
            return;
        }
        armBodyRateTimer();
    }

    private void cancelBodyRateTimer()
    {
        if (bodyRateTimer != null)
        {
            bodyRateTimer.cancel(false);
            bodyRateTimer = null;
        }
    }

    // ---------------------------------------------------------------- local answers

    /** Slowloris: the head did not arrive in time. */
    void onHeaderTimeout()
    {
        if (state == State.IDLE)
        {
            listener.counters.requests.increment();
            reject(HttpResponseStatus.REQUEST_TIMEOUT, listener.counters.headerTimeout);
        }
    }

    private void rejectMalformed(final Throwable cause)
    {
        final ListenerCounters counters = listener.counters;
        if (cause instanceof TooLongHttpHeaderException)
        {
            reject(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, counters.headerTooLarge);
        }
        else if (cause instanceof TooLongHttpLineException)
        {
            reject(HttpResponseStatus.REQUEST_URI_TOO_LONG, counters.uriTooLong);
        }
        else if (cause instanceof EdgeRequestDecoder.SmugglingException)
        {
            reject(HttpResponseStatus.BAD_REQUEST, counters.smuggling);
        }
        else if (cause instanceof TooLongFrameException)
        {
            reject(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, counters.headerTooLarge);
        }
        else
        {
            reject(HttpResponseStatus.BAD_REQUEST, counters.badRequest);
        }
    }

    /** Answers locally and closes: the request is never forwarded. */
    private void reject(final HttpResponseStatus rejectStatus, final AtomicCounter reason)
    {
        reason.increment();
        abortExchange(rejectStatus, null);
    }

    /** Ends the exchange with a local error response (unless a response already started) and closes the client. */
    private void abortExchange(final HttpResponseStatus errorStatus, final AtomicCounter reason)
    {
        if (reason != null)
        {
            reason.increment();
        }
        detachBackend(false);
        if (state == State.CLOSED)
        {
            return;
        }
        if (!responseStarted)
        {
            status = errorStatus.code();
            listener.counters.countStatus(status);
            final FullHttpResponse response = errorResponse(errorStatus);
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            logExchange();
            state = State.CLOSED;
            encoder.headRequest = false;
            final ChannelHandlerContext compressor = inbound.pipeline().context("compressor");
            final ChannelHandlerContext out = compressor != null ? compressor : ctx;
            out.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
        else
        {
            closeClient();
        }
    }

    private void redirect(final Redirect target, final String hostHeader, final String uri)
    {
        listener.counters.redirects.increment();
        String host = Router.hostOnly(hostHeader);
        if (host == null)
        {
            host = snapshot.config().vip();
        }
        if (host.indexOf(':') >= 0)
        {
            host = "[" + host + "]";
        }
        final boolean defaultPort = ("https".equals(target.protocol()) && target.port() == 443) ||
            ("http".equals(target.protocol()) && target.port() == 80);
        final String location = target.protocol() + "://" + host + (defaultPort ? "" : ":" + target.port()) + uri;
        final FullHttpResponse response = errorResponse(HttpResponseStatus.valueOf(target.statusCode()));
        response.headers().set(HttpHeaderNames.LOCATION, location);
        status = target.statusCode();
        listener.counters.countStatus(status);
        if (!clientKeepAlive)
        {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        logExchange();
        inbound.writeAndFlush(response);
        state = State.DISCARDING;
        drainPending();
    }

    private static FullHttpResponse errorResponse(final HttpResponseStatus errorStatus)
    {
        final ByteBuf body = Unpooled.copiedBuffer(errorStatus.toString() + "\n", StandardCharsets.US_ASCII);
        final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, errorStatus, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return response;
    }

    // ---------------------------------------------------------------- headers

    private void prepareUpstreamHeaders(final HttpRequest req, final HttpListener config)
    {
        final HttpHeaders headers = req.headers();
        final String upgradeTo = upgrade ? headers.get(HttpHeaderNames.UPGRADE) : null;
        // HTTP/2 allows exactly "te: trailers", and gRPC servers insist on it
        final boolean teTrailers = group != null && group.http2 &&
            headers.containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
        stripHopByHop(headers);
        if (teTrailers)
        {
            headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        if (upgradeTo != null)
        {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            headers.set(HttpHeaderNames.UPGRADE, upgradeTo);
        }
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        // what Netty's HTTP/2 → HTTP/1 conversion adds for its own use
        headers.remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
        headers.remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
        headers.remove(HttpConversionUtil.ExtensionHeaderNames.PATH.text());
        if (config.xForwardedFor() && clientIp != null)
        {
            final String existing = headers.get(X_FORWARDED_FOR);
            headers.set(X_FORWARDED_FOR, existing == null ? clientIp : existing + ", " + clientIp);
            headers.set(X_REAL_IP, clientIp);
            headers.set(X_FORWARDED_PROTO, config.protocol());
            headers.set(X_FORWARDED_PORT, config.port());
        }
        if (config.loadBalancerHeaders())
        {
            headers.set(X_SLUICE_LB, config.loadBalancerName());
            headers.set(X_SLUICE_VIP, config.vip());
        }
    }

    private static boolean isUpgrade(final HttpHeaders headers)
    {
        return headers.contains(HttpHeaderNames.UPGRADE) &&
            headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /** RFC 9110 7.6.1: Connection, the headers it names, and the classic hop-by-hop set end at this hop. */
    static void stripHopByHop(final HttpHeaders headers)
    {
        if (headers.contains(HttpHeaderNames.CONNECTION))
        {
            // "keep-alive" and "close" (nearly every message's only value) are handled by constant names: only other
            // values are split (no list, no strings per message for the usual ones)
            final Iterator<? extends CharSequence> values = headers.valueCharSequenceIterator(HttpHeaderNames.CONNECTION);
            List<String> named = null;
            boolean close = false;
            while (values.hasNext())
            {
                final CharSequence value = values.next();
                if (HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(value))
                {
                    close = true;
                }
                else if (!HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(value))
                {
                    named = named == null ? new ArrayList<>() : named;
                    named.add(value.toString());
                }
            }
            // removed after the walk: removing while the iterator is open would break it
            if (close)
            {
                headers.remove(HttpHeaderValues.CLOSE);
            }
            for (int i = 0; named != null && i < named.size(); i++)
            {
                for (final String token : named.get(i).split(","))
                {
                    final String name = token.trim();
                    if (!name.isEmpty() && !HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name))
                    {
                        headers.remove(name);
                    }
                }
            }
        }
        for (int i = 0; i < HOP_BY_HOP.length; i++)
        {
            headers.remove(HOP_BY_HOP[i]);
        }
    }

    // ---------------------------------------------------------------- lifecycle

    private void logExchange()
    {
        if (accessLog == null || request == null)
        {
            return;
        }
        accessLog.log(new AccessLog.Entry(System.currentTimeMillis(), listener.name, clientIp, request.method().name(),
            request.headers().get(HttpHeaderNames.HOST), request.uri(), status, server == null ? null : server.key, responseBytes,
            (System.nanoTime() - startNanos) / 1_000));
    }

    /** {@link L7Proxy#close}: finish the exchange in progress, then close; an idle connection closes now. */
    void drain()
    {
        draining = true;
        clientKeepAlive = false;
        if (state == State.IDLE && pending.isEmpty())
        {
            closeClient();
        }
    }

    private void closeClient()
    {
        state = State.CLOSED;
        inbound.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt)
    {
        if (evt instanceof IdleStateEvent)
        {
            // only an idle keep-alive connection or an idle tunnel; a slow backend is the request timeout's business
            if (state == State.IDLE || state == State.TUNNEL)
            {
                closeClient();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        if (state == State.FORWARDING && !requestComplete)
        {
            // the client went with its request (body) unfinished: the exchange ends here, without an answer
            listener.counters.clientClosed.increment();
        }
        state = State.CLOSED;
        Object msg;
        while ((msg = pending.poll()) != null)
        {
            ReferenceCountUtil.release(msg);
        }
        detachBackend(false);
        if (requestTimer != null)
        {
            requestTimer.cancel(false);
            requestTimer = null;
        }
        if (dedicatedBackend != null)
        {
            dedicatedBackend.close();
            dedicatedBackend = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        ctx.close();
    }
}
