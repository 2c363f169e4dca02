package io.sluice.testbed.servers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** TCP echo: every byte read is written back; a virtual thread per connection. */
public final class TcpEchoServer implements AutoCloseable
{
    private final ServerSocket server;
    private final Thread acceptor;

    public TcpEchoServer(final int port) throws IOException
    {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(port), 4096);
        acceptor = Thread.ofPlatform().daemon(true).name("tcp-echo-accept").start(this::acceptLoop);
    }

    public int port()
    {
        return server.getLocalPort();
    }

    private void acceptLoop()
    {
        while (!server.isClosed())
        {
            try
            {
                final Socket socket = server.accept();
                Thread.ofVirtual().start(() -> echo(socket));
            }
            catch (final IOException ex)
            {
                if (server.isClosed())
                {
                    return;
                }
            }
        }
    }

    private static void echo(final Socket socket)
    {
        try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream())
        {
            socket.setTcpNoDelay(true);
            final byte[] buffer = new byte[16384];
            int n;
            while ((n = in.read(buffer)) > 0)
            {
                out.write(buffer, 0, n);
            }
        }
        catch (final IOException ignored)
        {
            // peer reset: load clients close with RST on purpose
        }
    }

    @Override
    public void close() throws IOException
    {
        server.close();
        acceptor.interrupt();
    }

    /** {@code TcpEchoServer --port 7}. */
    public static void main(final String[] args) throws Exception
    {
        final TcpEchoServer server = new TcpEchoServer(Args.parse(args).getInt("--port", 7));
        System.out.println("tcp echo on port " + server.port());
        Thread.currentThread().join();
    }
}
