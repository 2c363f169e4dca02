package io.sluice.perf.jmh.fastpath;

import java.util.concurrent.TimeUnit;

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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import io.sluice.fastpath.lb.TokenBucket;
import io.sluice.fastpath.lb.TokenGrant;

/**
 * The node-wide bucket alone: a 64-byte frame paid from a forwarder's local grant ({@code grant}), and straight from
 * the shared GCRA bucket, one CAS per frame ({@code sharedPerFrame}); with two threads (two forwarders) on one bucket,
 * what the local grants save on the contended cache line. 100 Gbit/s, so every frame is paid for. Every operation
 * reads {@code System.nanoTime()} ({@code clockOnly} measures that alone).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow"})
public class TokenBucketBenchmark
{
    private final TokenBucket bucket = new TokenBucket(TokenBucket.bytesPerSecond(100_000));

    /** One forwarder's side, with its thread's CPU time per operation (wall time is meaningless on a shared VM). */
    @State(Scope.Thread)
    public static class Forwarder
    {
        final CpuTimePerOp cpu = new CpuTimePerOp();
        TokenGrant grant;

        @Setup(Level.Trial)
        public void setUp(final TokenBucketBenchmark shared)
        {
            grant = new TokenGrant(shared.bucket);
        }

        @Setup(Level.Iteration)
        public void startIteration()
        {
            cpu.start();
        }

        @TearDown(Level.Iteration)
        public void stopIteration()
        {
            cpu.stop("TokenBucketBenchmark");
        }
    }

    @Benchmark
    @Threads(1)
    public boolean grant(final Forwarder f)
    {
        f.cpu.ops++;
        return f.grant.tryTake(System.nanoTime(), 64);
    }

    /** The clock read every other benchmark here includes (the forwarder reads it once per duty cycle instead). */
    @Benchmark
    @Threads(1)
    public long clockOnly(final Forwarder f)
    {
        f.cpu.ops++;
        return System.nanoTime();
    }

    @Benchmark
    @Threads(1)
    public long sharedPerFrame(final Forwarder f)
    {
        f.cpu.ops++;
        return bucket.take(System.nanoTime(), 64);
    }

    @Benchmark
    @Threads(2)
    public boolean grantTwoForwarders(final Forwarder f)
    {
        f.cpu.ops++;
        return f.grant.tryTake(System.nanoTime(), 64);
    }

    @Benchmark
    @Threads(2)
    public long sharedPerFrameTwoForwarders(final Forwarder f)
    {
        f.cpu.ops++;
        return bucket.take(System.nanoTime(), 64);
    }
}
