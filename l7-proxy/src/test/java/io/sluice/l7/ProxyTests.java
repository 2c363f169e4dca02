package io.sluice.l7;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

/** Helpers shared by the proxy's socket tests. */
final class ProxyTests
{
    private ProxyTests()
    {
    }

    static CountersManager counters()
    {
        return new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
    }

    static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    /** Sends raw bytes and returns everything the proxy answers until it closes (or 5 s pass). */
    static String raw(final int port, final String request) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(5_000);
            final OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return readAll(socket.getInputStream());
        }
    }

    static String readAll(final InputStream in) throws IOException
    {
        final StringBuilder text = new StringBuilder();
        final byte[] buf = new byte[8192];
        try
        {
            int n;
            while ((n = in.read(buf)) > 0)
            {
                text.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
        }
        catch (final java.net.SocketTimeoutException | java.net.SocketException ex)
        {
            // what arrived so far is the answer
        }
        return text.toString();
    }

    static void await(final BooleanSupplier condition, final long timeoutMillis) throws InterruptedException
    {
        final long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("condition not met within " + timeoutMillis + " ms");
            }
            Thread.sleep(10);
        }
    }
}
