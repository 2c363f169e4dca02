package io.sluice.l7;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;

/**
 * A real HTTP backend (the JDK's HttpServer) that records every request it sees and answers with its name, the path and
 * the body length, so tests can tell which server answered and what reached it.
 */
final class TestBackend implements AutoCloseable
{
    /** One request as the backend saw it. */
    record Seen(String method, String uri, Map<String, List<String>> headers, byte[] body)
    {
        String header(final String name)
        {
            for (final Map.Entry<String, List<String>> entry : headers.entrySet())
            {
                if (entry.getKey() != null && entry.getKey().equalsIgnoreCase(name))
                {
                    return String.join(",", entry.getValue());
                }
            }
            return null;
        }
    }

    final String name;
    final HttpServer server;
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    volatile String setCookie;

    TestBackend(final String name) throws IOException
    {
        this(name, "127.0.0.1");
    }

    TestBackend(final String name, final String address) throws IOException
    {
        this.name = name;
        server = HttpServer.create(new InetSocketAddress(address, 0), 128);
        server.setExecutor(Executors.newCachedThreadPool(r ->
        {
            final Thread thread = new Thread(r, "backend-" + name);
            thread.setDaemon(true);
            return thread;
        }));
        server.createContext("/", exchange ->
        {
            final byte[] body;
            try (InputStream in = exchange.getRequestBody())
            {
                body = in.readAllBytes();
            }
            seen.add(new Seen(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
                Map.copyOf(exchange.getRequestHeaders()), body));
            final String path = exchange.getRequestURI().getPath();
            if (setCookie != null)
            {
                exchange.getResponseHeaders().add("Set-Cookie", setCookie);
            }
            exchange.getResponseHeaders().add("X-Backend", name);
            exchange.getResponseHeaders().add("Keep-Alive", "timeout=5");
            if (path.startsWith("/big"))
            {
                // streamed (chunked) response of n KiB
                final int kib = Integer.parseInt(path.substring(5));
                exchange.sendResponseHeaders(200, 0);
                try (OutputStream out = exchange.getResponseBody())
                {
                    final byte[] chunk = new byte[1024];
                    java.util.Arrays.fill(chunk, (byte)'x');
                    for (int i = 0; i < kib; i++)
                    {
                        out.write(chunk);
                    }
                }
                return;
            }
            final byte[] reply = (name + " " + exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + body.length)
                .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, "HEAD".equals(exchange.getRequestMethod()) ? -1 : reply.length);
            try (OutputStream out = exchange.getResponseBody())
            {
                if (!"HEAD".equals(exchange.getRequestMethod()))
                {
                    out.write(reply);
                }
            }
        });
        server.start();
    }

    int port()
    {
        return server.getAddress().getPort();
    }

    Server asServer(final int weight)
    {
        return new Server(server.getAddress().getAddress().getHostAddress(), port(), weight);
    }

    @Override
    public void close()
    {
        server.stop(0);
        ((java.util.concurrent.ExecutorService)server.getExecutor()).shutdownNow();
    }
}
