package io.sluice.control.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Makes the node's VIPs and local addresses present in the kernel (so ARP/ND answer for them and the L7 proxy can bind
 * them), tolerates those that are already there, and removes on close exactly what it added. Runs in the node's
 * network namespace; uses iproute2, which is off the packet path.
 */
public final class KernelAddresses implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(KernelAddresses.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * An address this node added.
     *
     * @param address   the address.
     * @param prefix    /32 or /128.
     * @param ifname    where it was added.
     */
    public record Added(InetAddress address, int prefix, String ifname)
    {
        String cidr()
        {
            return address.getHostAddress() + "/" + prefix;
        }
    }

    private final Deque<Added> added = new ArrayDeque<>();

    /**
     * Adds the address to {@code ifname} unless some interface of this namespace already has it.
     *
     * @return true when this call added it.
     */
    public synchronized boolean ensure(final String address, final String ifname) throws IOException
    {
        final InetAddress inet = InetAddress.ofLiteral(address);
        if (present().contains(inet))
        {
            return false;
        }
        final int prefix = inet.getAddress().length == 4 ? 32 : 128;
        final Added entry = new Added(inet, prefix, ifname);
        if (prefix == 128)
        {
            // nodad: the address must answer at once, not after duplicate address detection's ~1 s.
            ip("addr", "add", entry.cidr(), "dev", ifname, "nodad");
        }
        else
        {
            ip("addr", "add", entry.cidr(), "dev", ifname);
        }
        if ("lo".equals(ifname))
        {
            ip("link", "set", "lo", "up");
        }
        added.push(entry);
        return true;
    }

    /**
     * Removes an address this node added (one it found already there stays).
     *
     * @return true when it was removed.
     */
    public synchronized boolean release(final String address) throws IOException
    {
        final InetAddress inet = InetAddress.ofLiteral(address);
        for (final Added entry : added)
        {
            if (entry.address().equals(inet))
            {
                ip("addr", "del", entry.cidr(), "dev", entry.ifname());
                added.remove(entry);
                return true;
            }
        }
        return false;
    }

    public synchronized List<Added> added()
    {
        return List.copyOf(added);
    }

    /** Every address configured on any interface of this namespace. */
    public static Set<InetAddress> present() throws IOException
    {
        final Set<InetAddress> out = new HashSet<>();
        final JsonNode links = JSON.readTree(ip("-j", "addr", "show"));
        for (final JsonNode link : links)
        {
            for (final JsonNode info : link.path("addr_info"))
            {
                final String local = info.path("local").asText("");
                if (!local.isEmpty())
                {
                    out.add(InetAddress.ofLiteral(local));
                }
            }
        }
        return out;
    }

    /** Removes what {@link #ensure} added, newest first; failures are logged, never thrown. */
    @Override
    public synchronized void close()
    {
        while (!added.isEmpty())
        {
            final Added entry = added.pop();
            try
            {
                ip("addr", "del", entry.cidr(), "dev", entry.ifname());
            }
            catch (final IOException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "could not remove " + entry.cidr() + " from " + entry.ifname() + ": "
                    + ex.getMessage());
            }
        }
    }

    static String ip(final String... args) throws IOException
    {
        final String[] command = new String[args.length + 1];
        command[0] = "ip";
        System.arraycopy(args, 0, command, 1, args.length);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output;
        try
        {
            output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": timed out");
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ex);
        }
        if (process.exitValue() != 0)
        {
            throw new IOException(String.join(" ", command) + ": " + output.strip());
        }
        return output;
    }
}
