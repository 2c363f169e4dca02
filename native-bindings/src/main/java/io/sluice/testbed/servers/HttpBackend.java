package io.sluice.testbed.servers;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/**
 * Built-in backend HTTP/1.1 server (JDK's com.sun.net.httpserver, a virtual thread per exchange).
 * {@code /} → 100 bytes, {@code /bytes/N} → N bytes (≤ 1 GiB), {@code /echo} → the request line and
 * headers as text, {@code /health} → "ok". Every response carries {@code X-Backend: NAME}.
 * <p>
 * {@code /bytes} bodies are streamed in {@link #CHUNK_BYTES} writes from one shared pattern, so a response costs
 * the same memory whatever its size: the server runs with a 64 MiB heap (Testbed.javaCommand), and the JDK server
 * copies every {@code write} into a heap buffer of the write's length (and NIO into a direct one), so writing a
 * whole 14 MiB body at once ran out of heap after a 12 MiB one and left the client waiting with the headers sent.
 */
public final class HttpBackend implements AutoCloseable
{
    static final int MAX_BYTES = 1 << 30;
    /** Size of each body write: large enough for few syscalls, small enough that copies of it don't matter. */
    static final int CHUNK_BYTES = 64 << 10;
    private static final int ROOT_BODY_BYTES = 100;
    private static final int PATTERN_PERIOD = 26;
    /** {@code a..z} repeated; byte i of a body is {@code PATTERN[i % 26]}, so any chunk is a slice of this. */
    private static final byte[] PATTERN = pattern(CHUNK_BYTES + PATTERN_PERIOD);

    private final HttpServer server;
    private final String name;

    public HttpBackend(final String name, final int port) throws IOException
    {
        this.name = name;
        this.server = HttpServer.create(new InetSocketAddress(port), 1024);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    public int port()
    {
        return server.getAddress().getPort();
    }

    private void handle(final HttpExchange exchange) throws IOException
    {
        try (exchange)
        {
            exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
            final String path = exchange.getRequestURI().getPath();
            exchange.getResponseHeaders().add("X-Backend", name);
            if (path.equals("/echo") || path.startsWith("/echo/"))
            {
                final StringBuilder text = new StringBuilder();
                text.append(exchange.getRequestMethod()).append(' ').append(exchange.getRequestURI()).append(' ')
                    .append(exchange.getProtocol()).append('\n');
                final Map<String, List<String>> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                sorted.putAll(exchange.getRequestHeaders());
                sorted.forEach((key, values) -> values.forEach(v -> text.append(key).append(": ").append(v).append('\n')));
                text.append("X-Remote-Address: ").append(exchange.getRemoteAddress().getAddress().getHostAddress()).append('\n');
                send(exchange, 200, text.toString().getBytes(StandardCharsets.UTF_8), "text/plain");
            }
            else if (path.equals("/health"))
            {
                send(exchange, 200, "ok\n".getBytes(StandardCharsets.US_ASCII), "text/plain");
            }
            else if (path.startsWith("/bytes/"))
            {
                final int size;
                try
                {
                    size = Integer.parseInt(path.substring("/bytes/".length()));
                }
                catch (final NumberFormatException ex)
                {
                    send(exchange, 400, "bad size\n".getBytes(StandardCharsets.US_ASCII), "text/plain");
                    return;
                }
                if (size < 0 || size > MAX_BYTES)
                {
                    send(exchange, 400, ("size must be in 0.." + MAX_BYTES + "\n").getBytes(StandardCharsets.US_ASCII),
                        "text/plain");
                    return;
                }
                stream(exchange, size);
            }
            else if (path.equals("/") || path.equals("/index.html"))
            {
                send(exchange, 200, body(ROOT_BODY_BYTES), "text/html");
            }
            else
            {
                send(exchange, 404, "not found\n".getBytes(StandardCharsets.US_ASCII), "text/plain");
            }
        }
    }

    private static void send(final HttpExchange exchange, final int status, final byte[] body, final String type)
        throws IOException
    {
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody())
        {
            out.write(body);
        }
    }

    /** Sends {@code body(size)} in chunks, never holding more than one chunk's worth of it. */
    private static void stream(final HttpExchange exchange, final int size) throws IOException
    {
        exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
        exchange.sendResponseHeaders(200, size == 0 ? -1 : size);
        try (OutputStream out = exchange.getResponseBody())
        {
            // All bytes but the last come from the pattern; the last is a newline (as in body()).
            long position = 0;
            final long patterned = Math.max(0, size - 1L);
            while (position < patterned)
            {
                final int length = (int)Math.min(CHUNK_BYTES, patterned - position);
                out.write(PATTERN, (int)(position % PATTERN_PERIOD), length);
                position += length;
            }
            if (size > 0)
            {
                out.write('\n');
            }
        }
    }

    static byte[] body(final int size)
    {
        final byte[] body = pattern(size);
        if (size > 0)
        {
            body[size - 1] = '\n';
        }
        return body;
    }

    private static byte[] pattern(final int size)
    {
        final byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++)
        {
            bytes[i] = (byte)('a' + i % PATTERN_PERIOD);
        }
        return bytes;
    }

    @Override
    public void close()
    {
        server.stop(0);
    }

    /** {@code HttpBackend --name be1 --port 8080}. */
    public static void main(final String[] args) throws Exception
    {
        final Args parsed = Args.parse(args);
        final HttpBackend server = new HttpBackend(parsed.get("--name", "backend"), parsed.getInt("--port", 8080));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        Thread.currentThread().join();
    }
}
