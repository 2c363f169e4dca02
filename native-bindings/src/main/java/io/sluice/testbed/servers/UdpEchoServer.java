package io.sluice.testbed.servers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;

/** UDP echo: every datagram goes back to its sender unchanged. */
public final class UdpEchoServer implements AutoCloseable
{
    private final DatagramChannel channel;
    private final Thread worker;

    public UdpEchoServer(final int port) throws IOException
    {
        channel = DatagramChannel.open();
        channel.bind(new InetSocketAddress(port));
        worker = Thread.ofPlatform().daemon(true).name("udp-echo").start(this::loop);
    }

    public int port() throws IOException
    {
        return ((InetSocketAddress)channel.getLocalAddress()).getPort();
    }

    private void loop()
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(65536);
        while (channel.isOpen())
        {
            try
            {
                buffer.clear();
                final SocketAddress from = channel.receive(buffer);
                buffer.flip();
                channel.send(buffer, from);
            }
            catch (final ClosedChannelException ex)
            {
                return;
            }
            catch (final IOException ignored)
            {
                // an unreachable sender: drop and carry on
            }
        }
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
        worker.interrupt();
    }

    /** {@code UdpEchoServer --port 7}. */
    public static void main(final String[] args) throws Exception
    {
        final UdpEchoServer server = new UdpEchoServer(Args.parse(args).getInt("--port", 7));
        System.out.println("udp echo on port " + server.port());
        Thread.currentThread().join();
    }
}
