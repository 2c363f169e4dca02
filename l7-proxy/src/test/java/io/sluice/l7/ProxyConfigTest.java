package io.sluice.l7;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.sluice.nativeio.Libc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProxyConfigTest
{
    @Test
    void shouldAcceptAnEventLoopSliceOfZeroOrWithinTheKernelsBounds()
    {
        for (final long slice : new long[] {0, Libc.MIN_SLICE_NANOS, 300_000, Libc.MAX_SLICE_NANOS})
        {
            assertThat(config(slice).eventLoopSliceNanos()).isEqualTo(slice);
        }
        assertThatThrownBy(() -> config(Libc.MIN_SLICE_NANOS - 1)).isInstanceOf(ConfigException.class)
            .hasMessage("eventLoopSliceNanos: 99999 is not in 100000..100000000");
        assertThatThrownBy(() -> config(Libc.MAX_SLICE_NANOS + 1)).isInstanceOf(ConfigException.class)
            .hasMessage("eventLoopSliceNanos: 100000001 is not in 100000..100000000");
    }

    private static ProxyConfig config(final long eventLoopSliceNanos)
    {
        return new ProxyConfig(List.of(), Transport.NIO, 1, 0, null, null, eventLoopSliceNanos);
    }
}
