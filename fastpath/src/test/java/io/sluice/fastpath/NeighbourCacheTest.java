package io.sluice.fastpath;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.sluice.fastpath.packet.IpAddresses;

import static org.assertj.core.api.Assertions.assertThat;

class NeighbourCacheTest
{
    private static long lookup(final NeighbourCache cache, final String address)
    {
        return cache.nextHopMac(IpAddresses.high(IpAddresses.parse(address)), IpAddresses.low(IpAddresses.parse(address)));
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void shouldAnswerNoMacFromAnEmptyCache()
    {
        final NeighbourCache cache = new NeighbourCache();
        assertThat(lookup(cache, "198.18.0.1")).isEqualTo(NeighbourTable.NO_MAC);
        assertThat(lookup(cache, "2001:2::1")).isEqualTo(NeighbourTable.NO_MAC);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void shouldPreferExactEntriesOverTheDefaultNextHop()
    {
        final NeighbourCache cache = new NeighbourCache();
        for (int i = 0; i < 300; i++)
        {
            cache.put(IpAddresses.parse("198.18." + (i / 250) + "." + (i % 250 + 1)), 0x0200_0000_0000L + i);
        }
        cache.defaultNextHop(0x02AA_0000_0001L);
        assertThat(lookup(cache, "198.18.0.7")).isEqualTo(0x0200_0000_0006L);
        assertThat(lookup(cache, "198.18.1.50")).isEqualTo(0x0200_0000_0000L + 299);
        assertThat(lookup(cache, "198.19.1.1")).isEqualTo(0x02AA_0000_0001L);
        cache.remove(IpAddresses.parse("198.18.0.7"));
        assertThat(lookup(cache, "198.18.0.7")).isEqualTo(0x02AA_0000_0001L);
    }
}
