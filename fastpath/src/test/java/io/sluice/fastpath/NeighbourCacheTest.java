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
    void shouldNeverSendAnExpectedBackendToTheDefaultGatewayWhileItIsUnresolved()
    {
        final NeighbourCache cache = new NeighbourCache();
        cache.defaultNextHop(1, 0x02_00_00_00_00_01L);
        cache.expect(IpAddresses.parse("198.18.10.3"));
        assertThat(lookup(cache, "198.18.10.3")).isEqualTo(NeighbourTable.NO_MAC);
        assertThat(lookup(cache, "198.18.1.2")).isEqualTo(NeighbourTable.nextHop(1, 0x02_00_00_00_00_01L));

        cache.put(IpAddresses.parse("198.18.10.3"), 0, 0x02_00_00_00_0A_03L);
        cache.expect(IpAddresses.parse("198.18.10.3"));
        assertThat(lookup(cache, "198.18.10.3")).isEqualTo(NeighbourTable.nextHop(0, 0x02_00_00_00_0A_03L));
        assertThat(NeighbourTable.interfaceOf(lookup(cache, "198.18.10.3"))).isZero();
        assertThat(NeighbourTable.macOf(lookup(cache, "198.18.1.2"))).isEqualTo(0x02_00_00_00_00_01L);
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
