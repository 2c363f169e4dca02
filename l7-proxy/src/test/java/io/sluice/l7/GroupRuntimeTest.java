package io.sluice.l7;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GroupRuntimeTest
{
    private static final int MAX = 1000;

    private static GroupRuntime group(final SchedulerType scheduler, final int... weights)
    {
        final List<Server> servers = new ArrayList<>();
        for (int i = 0; i < weights.length; i++)
        {
            servers.add(new Server("198.18.10." + (i + 1), 8080, weights[i]));
        }
        final ServerState[] states = servers.stream().map(s -> new ServerState(s, ProxyTests.counters(), "t"))
            .toArray(ServerState[]::new);
        return new GroupRuntime(new ServerGroup("g", servers), states, scheduler);
    }

    private static Map<String, Integer> spread(final GroupRuntime group, final int picks)
    {
        final Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < picks; i++)
        {
            counts.merge(group.pick(null, 0, System.nanoTime(), MAX).key, 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void shouldSpreadWeightedRoundRobinExactlyByWeight()
    {
        final Map<String, Integer> counts = spread(group(SchedulerType.WRR, 100, 50, 50), 400);
        assertThat(counts).containsEntry("198.18.10.1:8080", 200).containsEntry("198.18.10.2:8080", 100)
            .containsEntry("198.18.10.3:8080", 100);
    }

    @Test
    void shouldInterleaveSmoothlyRatherThanInBursts()
    {
        final GroupRuntime group = group(SchedulerType.WRR, 5, 1, 1);
        final List<String> order = new ArrayList<>();
        for (int i = 0; i < 7; i++)
        {
            order.add(group.pick(null, 0, System.nanoTime(), MAX).key.substring(10, 11));
        }
        // nginx smooth WRR for 5,1,1: a a b a c a a
        assertThat(String.join("", order)).isEqualTo("1121311");
    }

    @Test
    void shouldSkipDownEjectedExcludedAndZeroWeightServers()
    {
        final GroupRuntime group = group(SchedulerType.RR, 100, 100, 100, 0);
        group.servers[0].up = false;
        group.servers[1].ejectedUntilNanos = System.nanoTime() + 60_000_000_000L;
        for (int i = 0; i < 6; i++)
        {
            assertThat(group.pick(null, 0, System.nanoTime(), MAX).key).isEqualTo("198.18.10.3:8080");
        }
        assertThat(group.pick(null, 1L << 2, System.nanoTime(), MAX)).isNull();
    }

    @Test
    void shouldPreferTheLeastLoadedServerPerUnitOfWeight()
    {
        final GroupRuntime group = group(SchedulerType.WLC, 100, 50);
        group.servers[0].inFlight.set(3);
        group.servers[1].inFlight.set(1);
        assertThat(group.pick(null, 0, System.nanoTime(), MAX).key).isEqualTo("198.18.10.2:8080");
        group.servers[1].inFlight.set(2);
        assertThat(group.pick(null, 0, System.nanoTime(), MAX).key).isEqualTo("198.18.10.1:8080");
    }

    @Test
    void shouldKeepHashKeysOnTheirServerWhenAnotherServerGoesDown()
    {
        final GroupRuntime group = group(SchedulerType.HASH, 100, 100, 100);
        final Map<String, String> before = new HashMap<>();
        for (int i = 0; i < 300; i++)
        {
            before.put("k" + i, group.pick("k" + i, 0, System.nanoTime(), MAX).key);
        }
        assertThat(new java.util.HashSet<>(before.values())).hasSize(3);
        group.servers[2].up = false;
        for (final Map.Entry<String, String> entry : before.entrySet())
        {
            final String now = group.pick(entry.getKey(), 0, System.nanoTime(), MAX).key;
            if (!entry.getValue().equals("198.18.10.3:8080"))
            {
                assertThat(now).isEqualTo(entry.getValue());
            }
        }
    }

    @Test
    void shouldEjectAfterConsecutiveFailuresAndForgiveOnSuccess()
    {
        final ServerState state = group(SchedulerType.RR, 100).servers[0];
        final Upstream upstream = new Upstream(8, 100, 1, 3, 1_000);
        final long now = System.nanoTime();
        assertThat(state.onFailure(now, upstream)).isFalse();
        assertThat(state.onFailure(now, upstream)).isFalse();
        state.onSuccess();
        assertThat(state.onFailure(now, upstream)).isFalse();
        assertThat(state.onFailure(now, upstream)).isFalse();
        assertThat(state.onFailure(now, upstream)).isTrue();
        assertThat(state.available(now, MAX)).isFalse();
        assertThat(state.available(now + 1_000_000_001L, MAX)).isTrue();
    }
}
