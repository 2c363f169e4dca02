package io.sluice.perf.load;

import io.sluice.testbed.Netns;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * UDP packet generator: one socket in the client namespace, batches of {@link #BATCH} datagrams
 * per sendmmsg(2), each message with its own destination so {@code flows} distinct 5-tuples
 * (destination address × port) cycle through every batch. Bounded by time and by count.
 * sendmmsg was chosen over AF_XDP TX: it needs no XDP program on the client's veth (which would
 * change the path under test) and reaches ~1.4 Mpps on one core here, above every subject.
 */
public final class UdpGenerator
{
    public static final int BATCH = 64;
    /** Ethernet + IPv4 + UDP headers: a frame of N bytes carries N - 42 bytes of payload. */
    public static final int HEADERS_BYTES = 14 + 20 + 8;
    public static final int MIN_FRAME_BYTES = 64;
    public static final int MAX_FRAME_BYTES = 1514;

    /** What to send: destinations (IPv4), first port, flow count, frame size, bounds, CPU to pin to (-1: none). */
    public record Config(List<String> destinations, int basePort, int flows, int frameBytes, long durationMs, long maxPackets,
                         int cpu)
    {
        public Config
        {
            if (destinations.isEmpty())
            {
                throw new IllegalArgumentException("destinations: empty");
            }
            if (flows < 1 || flows > 65536 - basePort)
            {
                throw new IllegalArgumentException("flows: " + flows + " is not in 1.." + (65536 - basePort));
            }
            if (frameBytes < MIN_FRAME_BYTES || frameBytes > MAX_FRAME_BYTES)
            {
                throw new IllegalArgumentException("frameBytes: " + frameBytes + " is not in " + MIN_FRAME_BYTES + ".."
                    + MAX_FRAME_BYTES);
            }
            if (durationMs < 1 || durationMs > 600_000)
            {
                throw new IllegalArgumentException("durationMs: " + durationMs + " is not in 1..600000");
            }
        }
    }

    /** Packets the kernel accepted, send errors (ENOBUFS and the like), and the time spent. */
    public record Result(long sent, long errors, long elapsedNs)
    {
        public double packetsPerSecond()
        {
            return elapsedNs == 0 ? 0 : sent * 1e9 / elapsedNs;
        }
    }

    private UdpGenerator()
    {
    }

    /** Runs the generator on a fresh thread inside namespace {@code ns}. */
    public static Result run(final String ns, final Config config)
    {
        return Netns.call(ns, () -> runHere(config));
    }

    /** Runs in the calling thread's namespace. */
    public static Result runHere(final Config config) throws UnknownHostException
    {
        if (config.cpu() >= 0)
        {
            Netns.pinCurrentThread(config.cpu());
        }
        // round the flow count up to whole batches so every batch is one contiguous slice
        final int slots = ((config.flows() + BATCH - 1) / BATCH) * BATCH;
        try (Arena arena = Arena.ofConfined())
        {
            final Sendmmsg sys = new Sendmmsg(arena);
            final int payloadBytes = config.frameBytes() - HEADERS_BYTES;
            final MemorySegment payload = arena.allocate(payloadBytes, 8);
            for (int i = 0; i < payloadBytes; i++)
            {
                payload.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte)i);
            }
            final MemorySegment iov = arena.allocate(Sendmmsg.IOVEC);
            Sendmmsg.IOV_BASE.set(iov, 0L, payload);
            Sendmmsg.IOV_LEN.set(iov, 0L, (long)payloadBytes);
            final MemorySegment names = arena.allocate(Sendmmsg.SOCKADDR_IN, slots);
            final MemorySegment vec = arena.allocate(Sendmmsg.MMSGHDR, slots);
            final List<String> destinations = config.destinations();
            for (int slot = 0; slot < slots; slot++)
            {
                final int flow = slot % config.flows();
                final MemorySegment name = names.asSlice(slot * Sendmmsg.SOCKADDR_IN.byteSize(), Sendmmsg.SOCKADDR_IN.byteSize());
                Sendmmsg.SIN_FAMILY.set(name, 0L, (short)Sendmmsg.AF_INET);
                Sendmmsg.SIN_PORT.set(name, 0L, (short)(config.basePort() + flow / destinations.size()));
                Sendmmsg.SIN_ADDR.set(name, 0L, ipv4(destinations.get(flow % destinations.size())));
                final MemorySegment msg = vec.asSlice(slot * Sendmmsg.MMSGHDR.byteSize(), Sendmmsg.MMSGHDR.byteSize());
                Sendmmsg.MSG_NAME.set(msg, 0L, name);
                Sendmmsg.MSG_NAMELEN.set(msg, 0L, (int)Sendmmsg.SOCKADDR_IN.byteSize());
                Sendmmsg.MSG_IOV.set(msg, 0L, iov);
                Sendmmsg.MSG_IOVLEN.set(msg, 0L, 1L);
            }
            final int fd = sys.socket(Sendmmsg.AF_INET, Sendmmsg.SOCK_DGRAM);
            if (fd < 0)
            {
                throw new IllegalStateException("socket: errno " + -fd);
            }
            try
            {
                return sendLoop(sys, fd, vec, slots, config);
            }
            finally
            {
                Sendmmsg.close(fd);
            }
        }
    }

    private static Result sendLoop(final Sendmmsg sys, final int fd, final MemorySegment vec, final int slots,
        final Config config)
    {
        final long maxPackets = config.maxPackets() <= 0 ? Long.MAX_VALUE : config.maxPackets();
        final MemorySegment[] batches = new MemorySegment[slots / BATCH];
        for (int b = 0; b < batches.length; b++)
        {
            batches[b] = vec.asSlice(b * BATCH * Sendmmsg.MMSGHDR.byteSize());
        }
        final long start = System.nanoTime();
        final long deadline = start + config.durationMs() * 1_000_000L;
        long sent = 0;
        long errors = 0;
        int batch = 0;
        long now = start;
        while (sent < maxPackets && now < deadline)
        {
            final int count = (int)Math.min(BATCH, maxPackets - sent);
            final int rc = sys.sendmmsg(fd, batches[batch], count);
            if (rc > 0)
            {
                sent += rc;
            }
            else
            {
                errors++;
                if (rc != -Sendmmsg.ENOBUFS && rc != -Sendmmsg.EAGAIN && errors > 1000 && sent == 0)
                {
                    throw new IllegalStateException("sendmmsg keeps failing: errno " + -rc);
                }
                // queue full: give the receiving side a moment instead of spinning on the error
                LockSupport.parkNanos(10_000);
            }
            batch = batch + 1 == batches.length ? 0 : batch + 1;
            now = System.nanoTime();
        }
        return new Result(sent, errors, now - start);
    }

    private static int ipv4(final String address) throws UnknownHostException
    {
        final InetAddress parsed = InetAddress.getByName(address);
        if (!(parsed instanceof Inet4Address))
        {
            throw new IllegalArgumentException("destinations: " + address + " is not an IPv4 address");
        }
        final byte[] b = parsed.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | b[3] & 0xff;
    }
}
