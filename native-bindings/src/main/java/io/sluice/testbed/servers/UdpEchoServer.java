package io.sluice.testbed.servers;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;

/**
 * UDP echo: every datagram goes back to its sender unchanged, from the address it was sent to. One socket per address of
 * the namespace (taken at start), because a wildcard socket answers from the route's preferred source, and a backend
 * with several addresses would then answer a load balancer from an address the flow never used.
 */
public final class UdpEchoServer implements AutoCloseable
{
    private final List<DatagramChannel> channels = new ArrayList<>();
    private final int port;

    public UdpEchoServer(final int port) throws IOException
    {
        final List<InetAddress> addresses = new ArrayList<>();
        for (final NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces()))
        {
            for (final InetAddress address : Collections.list(nic.getInetAddresses()))
            {
                if (!address.isLinkLocalAddress())
                {
                    addresses.add(address);
                }
            }
        }
        int bound = port;
        if (addresses.isEmpty())
        {
            channels.add(DatagramChannel.open().bind(new InetSocketAddress(port)));
        }
        for (final InetAddress address : addresses)
        {
            final DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress(address, bound));
            bound = ((InetSocketAddress)channel.getLocalAddress()).getPort();
            channels.add(channel);
        }
        this.port = bound;
        for (final DatagramChannel channel : channels)
        {
            Thread.ofPlatform().daemon(true).name("udp-echo").start(() -> loop(channel));
        }
    }

    public int port()
    {
        return port;
    }

    private static void loop(final DatagramChannel channel)
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
        for (final DatagramChannel channel : channels)
        {
            channel.close();
        }
    }

    /** {@code UdpEchoServer --port 7}. */
    public static void main(final String[] args) throws Exception
    {
        final UdpEchoServer server = new UdpEchoServer(Args.parse(args).getInt("--port", 7));
        System.out.println("udp echo on port " + server.port());
        Thread.currentThread().join();
    }
}
