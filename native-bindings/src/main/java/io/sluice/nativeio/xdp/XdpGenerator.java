package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A UDP/IPv4 frame generator on an AF_XDP socket's tx ring (copy mode, no XDP program needed): the load side of the
 * reflector benchmark. Sends {@code --count} frames (or for {@code --duration-seconds}) as fast as the ring allows,
 * parking briefly only when the ring is full, then prints/writes {@code {"txPackets":..,"wallNs":..,"cpuNs":..}}.
 * <pre>
 * XdpGenerator --ifname IF --src-mac M --dst-mac M --src-ip A --dst-ip A [--dst-port 9] [--payload-bytes 18]
 *              [--count N] [--duration-seconds S] [--stats-file F]
 * </pre>
 */
public final class XdpGenerator
{
    private XdpGenerator()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        String ifname = null;
        byte[] srcMac = null;
        byte[] dstMac = null;
        InetAddress srcIp = null;
        InetAddress dstIp = null;
        int dstPort = 9;
        int payload = 18;
        long count = Long.MAX_VALUE;
        long durationSeconds = 10;
        Path stats = null;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--ifname" -> ifname = args[++i];
                case "--src-mac" -> srcMac = mac(args[++i]);
                case "--dst-mac" -> dstMac = mac(args[++i]);
                case "--src-ip" -> srcIp = InetAddress.getByName(args[++i]);
                case "--dst-ip" -> dstIp = InetAddress.getByName(args[++i]);
                case "--dst-port" -> dstPort = Integer.parseInt(args[++i]);
                case "--payload-bytes" -> payload = Integer.parseInt(args[++i]);
                case "--count" -> count = Long.parseLong(args[++i]);
                case "--duration-seconds" -> durationSeconds = Long.parseLong(args[++i]);
                case "--stats-file" -> stats = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (ifname == null || srcMac == null || dstMac == null || srcIp == null || dstIp == null)
        {
            System.err.println("XdpGenerator: --ifname, --src-mac, --dst-mac, --src-ip and --dst-ip are required");
            System.exit(2);
        }
        final byte[] frame = udpFrame(srcMac, dstMac, srcIp.getAddress(), dstIp.getAddress(), 40000, dstPort, payload);
        final int ifindex = NativeException.check(Libc.ifNameToIndex(ifname), "if_nametoindex(" + ifname + ")", null);
        final int frames = 4096;
        final int batch = 64;
        try (Umem umem = Umem.allocate(new UmemConfig(frames, 2048, 0, false));
            XskSocket xsk = XskSocket.open(umem, ifindex, 0,
                new XskConfig(0, 2048, 2048, 4096, XskConfig.BindMode.COPY, true, 0, 0)))
        {
            final long[] free = new long[frames];
            int freeCount = 0;
            for (int i = 0; i < frames; i++)
            {
                MemorySegment.copy(frame, 0, umem.segment(), JAVA_BYTE, umem.frameAddress(i), frame.length);
                free[freeCount++] = umem.frameAddress(i);
            }
            final XskRing tx = xsk.tx();
            final XskRing completion = xsk.completion();
            long sent = 0;
            final long start = System.nanoTime();
            final long deadline = start + durationSeconds * 1_000_000_000L;
            final long cpuStart = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            while (sent < count && System.nanoTime() < deadline)
            {
                final int done = completion.peek(frames);
                for (int i = 0; i < done; i++)
                {
                    free[freeCount++] = completion.address(completion.index() + i);
                }
                if (done > 0)
                {
                    completion.release(done);
                }
                final int n = (int)Math.min(Math.min(batch, freeCount), count - sent);
                if (n > 0 && tx.reserve(n) == n)
                {
                    for (int i = 0; i < n; i++)
                    {
                        tx.desc(tx.index() + i, free[--freeCount], frame.length, 0);
                    }
                    tx.submit(n);
                    sent += n;
                    xsk.kickTx();
                }
                else
                {
                    xsk.kickTx();
                    LockSupport.parkNanos(1_000);
                }
            }
            final long wallNs = System.nanoTime() - start;
            final long cpuNs = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpuStart;
            final String json = String.format("{\"txPackets\":%d,\"wallNs\":%d,\"cpuNs\":%d}%n", sent, wallNs, cpuNs);
            if (stats != null)
            {
                Files.writeString(stats, json);
            }
            else
            {
                System.out.print(json);
            }
        }
    }

    private static byte[] mac(final String text)
    {
        final String[] parts = text.split(":");
        final byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            mac[i] = (byte)Integer.parseInt(parts[i], 16);
        }
        return mac;
    }

    /** @return an Ethernet + IPv4 + UDP frame with valid IPv4 checksum and UDP checksum 0 (allowed for IPv4). */
    static byte[] udpFrame(final byte[] srcMac, final byte[] dstMac, final byte[] srcIp, final byte[] dstIp, final int srcPort,
        final int dstPort, final int payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + payload);
        b.put(dstMac).put(srcMac).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + 8 + payload)).putShort((short)0).putShort((short)0x4000)
            .put((byte)64).put((byte)17).putShort((short)0).put(srcIp).put(dstIp);
        long sum = 0;
        for (int i = 14; i < 34; i += 2)
        {
            sum += b.getShort(i) & 0xffff;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        b.putShort(24, (short)~sum);
        b.putShort((short)srcPort).putShort((short)dstPort).putShort((short)(8 + payload)).putShort((short)0);
        return b.array();
    }
}
