package io.sluice.testbed.servers;

import java.util.ArrayList;
import java.util.List;

/**
 * One JVM per backend namespace serving all the built-in servers, so a testbed with N backends
 * costs N JVMs, not 3N: {@code BackendMain --name be1 --http 8080 --tcp-echo 7 --udp-echo 7}
 * (omit an option to leave that server out).
 */
public final class BackendMain
{
    private BackendMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Args parsed = Args.parse(args);
        final List<AutoCloseable> servers = new ArrayList<>();
        if (parsed.has("--http"))
        {
            servers.add(new HttpBackend(parsed.get("--name", "backend"), parsed.getInt("--http", 8080)));
        }
        if (parsed.has("--tcp-echo"))
        {
            servers.add(new TcpEchoServer(parsed.getInt("--tcp-echo", 7)));
        }
        if (parsed.has("--udp-echo"))
        {
            servers.add(new UdpEchoServer(parsed.getInt("--udp-echo", 7)));
        }
        try
        {
            Thread.currentThread().join();
        }
        finally
        {
            for (final AutoCloseable server : servers)
            {
                server.close();
            }
        }
    }
}
