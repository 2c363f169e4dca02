package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The AF_XDP reflector benchmark subject: attach a redirect-all XDP program to one interface queue (BPF link: gone
 * when this process dies), receive on an XSK and send every frame back out (optionally with MACs swapped), then write
 * a JSON stats file. Runs in the current network namespace (launch it with {@code ip netns exec}).
 * <pre>
 * XdpReflector --ifname IF [--queue 0] [--mode copy|zerocopy] [--xdp-mode native|generic] [--swap-macs]
 *              [--duration-seconds N (0: until SIGTERM)] [--stats-file F] [--ready-file F] [--frames 4096] [--batch 64]
 *              [--busy-poll-us 0]
 * </pre>
 * Stats: {@code {"rxPackets":..,"txPackets":..,"txDropped":..,"busyNs":..,"cpuNs":..,"wallNs":..,"zeroCopy":..,
 * "xskRxDropped":..,"xskRxRingFull":..,"xskFillRingEmpty":..}}, cpuNs being the reflector thread's CPU time and the xsk
 * fields the socket's XDP_STATISTICS (frames the kernel could not hand over). The thread backs off when idle (2 shared cores: never busy-spin).
 */
public final class XdpReflector
{
    private XdpReflector()
    {
    }

    /** Parsed command line. */
    record Options(String ifname, int queue, boolean zeroCopy, XdpMode xdpMode, boolean swapMacs, long durationSeconds,
        Path statsFile, Path readyFile, int frames, int batch, int busyPollMicros)
    {
        static Options parse(final String[] args)
        {
            String ifname = null;
            int queue = 0;
            boolean zeroCopy = false;
            XdpMode xdpMode = XdpMode.NATIVE;
            boolean swapMacs = false;
            long duration = 0;
            Path stats = null;
            Path ready = null;
            int frames = 4096;
            int batch = 64;
            int busyPoll = 0;
            for (int i = 0; i < args.length; i++)
            {
                final String arg = args[i];
                switch (arg)
                {
                    case "--ifname" -> ifname = value(args, ++i, arg);
                    case "--queue" -> queue = Integer.parseInt(value(args, ++i, arg));
                    case "--mode" ->
                    {
                        final String mode = value(args, ++i, arg);
                        if (!"copy".equals(mode) && !"zerocopy".equals(mode))
                        {
                            throw new IllegalArgumentException("--mode: " + mode + " is not copy or zerocopy");
                        }
                        zeroCopy = "zerocopy".equals(mode);
                    }
                    case "--xdp-mode" -> xdpMode = "generic".equals(value(args, ++i, arg)) ? XdpMode.GENERIC : XdpMode.NATIVE;
                    case "--swap-macs" -> swapMacs = true;
                    case "--duration-seconds" -> duration = Long.parseLong(value(args, ++i, arg));
                    case "--stats-file" -> stats = Path.of(value(args, ++i, arg));
                    case "--ready-file" -> ready = Path.of(value(args, ++i, arg));
                    case "--frames" -> frames = Integer.parseInt(value(args, ++i, arg));
                    case "--batch" -> batch = Integer.parseInt(value(args, ++i, arg));
                    case "--busy-poll-us" -> busyPoll = Integer.parseInt(value(args, ++i, arg));
                    default -> throw new IllegalArgumentException("unknown option " + arg);
                }
            }
            if (ifname == null)
            {
                throw new IllegalArgumentException("--ifname is required");
            }
            if (Integer.bitCount(frames) != 1 || frames < 64)
            {
                throw new IllegalArgumentException("--frames: " + frames + " is not a power of two >= 64");
            }
            if (batch < 1 || batch > 1024)
            {
                throw new IllegalArgumentException("--batch: " + batch + " is not in 1..1024");
            }
            return new Options(ifname, queue, zeroCopy, xdpMode, swapMacs, duration, stats, ready, frames, batch, busyPoll);
        }

        private static String value(final String[] args, final int i, final String option)
        {
            if (i >= args.length)
            {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }
    }

    public static void main(final String[] args) throws Exception
    {
        final Options options;
        try
        {
            options = Options.parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("XdpReflector: " + ex.getMessage());
            System.exit(2);
            return;
        }
        final int ifindex = Libc.ifNameToIndex(options.ifname());
        NativeException.check(ifindex, "if_nametoindex(" + options.ifname() + ")", "no such interface in this namespace");

        final CountDownLatch stop = new CountDownLatch(1);
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            stop.countDown();
            try
            {
                stopped.await(5, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ignored)
            {
                Thread.currentThread().interrupt();
            }
        }));

        final XskConfig config = new XskConfig(2048, 2048, options.frames(), 2048,
            options.zeroCopy() ? XskConfig.BindMode.ZERO_COPY : XskConfig.BindMode.COPY, true, options.busyPollMicros(),
            options.busyPollMicros() > 0 ? options.batch() : 0);
        try (Umem umem = Umem.allocate(new UmemConfig(options.frames(), 2048, 0, false));
            XskSocket xsk = XskSocket.open(umem, ifindex, options.queue(), config);
            XdpRedirectAll program = new XdpRedirectAll(Math.max(64, options.queue() + 1)))
        {
            program.registerXsk(options.queue(), xsk.fd());
            program.attach(ifindex, options.xdpMode());
            final XdpReflectorAgent agent = new XdpReflectorAgent(xsk, options.swapMacs(), options.batch());
            final long[] cpuNs = new long[1];
            final AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(64, 64, 1_000, 100_000), Throwable::printStackTrace,
                null, new CpuTimedAgent(agent, cpuNs));
            final long start = System.nanoTime();
            AgentRunner.startOnThread(runner);
            if (options.readyFile() != null)
            {
                Files.writeString(options.readyFile(), "ready\n");
            }
            if (options.durationSeconds() > 0)
            {
                stop.await(options.durationSeconds(), TimeUnit.SECONDS);
            }
            else
            {
                stop.await();
            }
            runner.close();
            final long wallNs = System.nanoTime() - start;
            final XskSocket.Statistics statistics = xsk.statistics();
            final String json = String.format(
                "{\"rxPackets\":%d,\"txPackets\":%d,\"txDropped\":%d,\"busyNs\":%d,\"cpuNs\":%d,\"wallNs\":%d,\"zeroCopy\":%b,"
                    + "\"xskRxDropped\":%d,\"xskRxRingFull\":%d,\"xskFillRingEmpty\":%d}%n",
                agent.rxPackets(), agent.txPackets(), agent.txDropped(), agent.busyNs(), cpuNs[0], wallNs, xsk.isZeroCopy(),
                statistics.rxDropped(), statistics.rxRingFull(), statistics.rxFillRingEmptyDescs());
            if (options.statsFile() != null)
            {
                writeAtomically(options.statsFile(), json);
            }
            else
            {
                System.out.print(json);
            }
        }
        finally
        {
            stopped.countDown();
        }
    }

    private static void writeAtomically(final Path file, final String text) throws IOException
    {
        final Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temp, text);
        Files.move(temp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Records the agent thread's CPU time when it closes. */
    private record CpuTimedAgent(XdpReflectorAgent agent, long[] cpuNs) implements org.agrona.concurrent.Agent
    {
        @Override
        public void onStart()
        {
            agent.onStart();
        }

        @Override
        public int doWork()
        {
            return agent.doWork();
        }

        @Override
        public void onClose()
        {
            cpuNs[0] = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        }

        @Override
        public String roleName()
        {
            return agent.roleName();
        }
    }
}
