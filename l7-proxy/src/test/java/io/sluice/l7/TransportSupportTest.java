package io.sluice.l7;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TransportSupportTest
{
    @Test
    void shouldRunEveryEventLoopWithTheConfiguredTimeSlice() throws Exception
    {
        assumeTrue(sliceOfCurrentThread() != null, "this kernel's /proc/thread-self/sched has no se.slice field (pre-EEVDF)");
        final MultiThreadIoEventLoopGroup group = TransportSupport.of(Transport.IO_URING).newGroup(2, "sl-slice", 300_000);
        try
        {
            for (int i = 0; i < 4; i++)
            {
                assertThat(group.next().submit(TransportSupportTest::sliceOfCurrentThread).get(10, TimeUnit.SECONDS))
                    .isEqualTo("300000");
            }
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void shouldLeaveTheKernelsSliceWhenNoneIsConfigured() throws Exception
    {
        final String ours = sliceOfCurrentThread();
        assumeTrue(ours != null, "this kernel's /proc/thread-self/sched has no se.slice field (pre-EEVDF)");
        final MultiThreadIoEventLoopGroup group = TransportSupport.of(Transport.NIO).newGroup(1, "sl-noslice", 0);
        try
        {
            assertThat(group.next().submit(TransportSupportTest::sliceOfCurrentThread).get(10, TimeUnit.SECONDS))
                .isEqualTo(ours);
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** The se.slice line of /proc/thread-self/sched (kernel/sched/debug.c), or null when the kernel does not print it. */
    private static String sliceOfCurrentThread()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/thread-self/sched")))
            {
                final int colon = line.indexOf(':');
                if (colon > 0 && "se.slice".equals(line.substring(0, colon).trim()))
                {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
