package io.sluice.perf.load;

import io.sluice.testbed.Netns;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * TCP connection-rate client: {@code concurrency} platform threads in the client namespace, each
 * repeatedly connecting, sending one byte, reading the echo and closing with RST (SO_LINGER 0),
 * so no TIME_WAIT piles up on the client's ports. A connection counts once the echo came back.
 */
public final class TcpConnectClient
{
    /** Completed connections, failed attempts, elapsed time. */
    public record Result(long connections, long failures, long elapsedNs)
    {
        public double connectionsPerSecond()
        {
            return elapsedNs == 0 ? 0 : connections * 1e9 / elapsedNs;
        }
    }

    private TcpConnectClient()
    {
    }

    public static Result run(final String ns, final String host, final int port, final int concurrency, final long durationMs,
        final int cpu) throws InterruptedException
    {
        final AtomicLong connections = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        final long start = System.nanoTime();
        final long deadline = start + durationMs * 1_000_000L;
        final InetSocketAddress target = new InetSocketAddress(host, port);
        final List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++)
        {
            threads.add(Netns.start(ns, "tcp-connect-" + i, () ->
            {
                if (cpu >= 0)
                {
                    Netns.pinCurrentThread(cpu);
                }
                long backoffNs = 0;
                while (System.nanoTime() < deadline)
                {
                    if (connectOnce(target))
                    {
                        connections.incrementAndGet();
                        backoffNs = 0;
                    }
                    else
                    {
                        failures.incrementAndGet();
                        backoffNs = Math.min(50_000_000, Math.max(1_000_000, backoffNs * 2));
                        java.util.concurrent.locks.LockSupport.parkNanos(backoffNs);
                    }
                }
            }));
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        return new Result(connections.get(), failures.get(), System.nanoTime() - start);
    }

    private static boolean connectOnce(final InetSocketAddress target)
    {
        try (Socket socket = new Socket())
        {
            socket.setSoLinger(true, 0);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(2000);
            socket.connect(target, 2000);
            socket.getOutputStream().write('x');
            final InputStream in = socket.getInputStream();
            return in.read() == 'x';
        }
        catch (final IOException ex)
        {
            return false;
        }
    }
}
