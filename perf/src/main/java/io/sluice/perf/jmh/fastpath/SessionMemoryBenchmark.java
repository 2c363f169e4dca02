package io.sluice.perf.jmh.fastpath;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.sluice.fastpath.session.SessionLayout;
import io.sluice.fastpath.session.SessionTable;

/**
 * Memory of 10M sessions: fills a session table of capacity 10M to the brim (both keys indexed, every record in
 * the expiry wheel) and reports the bytes reserved and the resident-set growth, per session and in total.
 * Target: ≤ 1.5 GB. Single shot: the time is the fill time (10M inserts).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx512m"})
public class SessionMemoryBenchmark
{
    public static final int SESSIONS = 10_000_000;
    private static final long SECOND = 1_000_000_000L;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Memory
    {
        public long reservedMegabytes;
        public long residentGrowthMegabytes;
        public long reservedBytesPerSession;
        public long sessions;
    }

    private SessionTable table;
    private long rssBefore;

    @Setup(Level.Iteration)
    public void setUp() throws IOException
    {
        rssBefore = residentBytes();
        table = new SessionTable(SESSIONS, SECOND, 4096, 0);
    }

    @TearDown(Level.Iteration)
    public void tearDown()
    {
        table.close();
    }

    @Benchmark
    public void fill(final Memory memory) throws IOException
    {
        final UnsafeBuffer r = table.records();
        for (int i = 0; i < SESSIONS; i++)
        {
            final int record = table.allocate();
            final int base = SessionTable.offset(record);
            r.putByte(base + SessionLayout.STATE_OFFSET, SessionLayout.STATE_TCP_ESTABLISHED);
            r.putByte(base + SessionLayout.PROTOCOL_OFFSET, (byte)6);
            r.putLong(base + SessionLayout.CLIENT_ADDRESS_OFFSET + 8, 0x0000_FFFF_C613_0000L + (i >>> 16));
            r.putLong(base + SessionLayout.VIP_ADDRESS_OFFSET + 8, 0x0000_FFFF_C612_0164L);
            r.putLong(base + SessionLayout.BACKEND_ADDRESS_OFFSET + 8, 0x0000_FFFF_C612_0A00L + (i & 0xFF));
            r.putLong(base + SessionLayout.LOCAL_ADDRESS_OFFSET + 8, 0x0000_FFFF_C612_0200L + (i >>> 24));
            r.putShort(base + SessionLayout.CLIENT_PORT_OFFSET, (short)i);
            r.putShort(base + SessionLayout.VIP_PORT_OFFSET, (short)80);
            r.putShort(base + SessionLayout.BACKEND_PORT_OFFSET, (short)8080);
            r.putShort(base + SessionLayout.LOCAL_PORT_OFFSET, (short)(i >>> 8));
            r.putShort(base + SessionLayout.TIMEOUT_SECONDS_OFFSET, (short)900);
            table.insert(record, 900 * SECOND);
        }
        if (table.liveCount() != SESSIONS)
        {
            throw new IllegalStateException("filled " + table.liveCount());
        }
        final long reserved = table.recordBytes() + table.indexBytes();
        memory.sessions = SESSIONS;
        memory.reservedMegabytes = reserved >> 20;
        memory.reservedBytesPerSession = reserved / SESSIONS;
        memory.residentGrowthMegabytes = (residentBytes() - rssBefore) >> 20;
    }

    private static long residentBytes() throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
        {
            if (line.startsWith("VmRSS:"))
            {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }
}
