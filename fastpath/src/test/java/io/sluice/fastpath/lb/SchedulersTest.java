package io.sluice.fastpath.lb;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.status.AtomicCounter;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.CounterSet;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.SchedulerKind;

import static org.assertj.core.api.Assertions.assertThat;

class SchedulersTest
{
    @Test
    void shouldPickInNginxSmoothWeightedOrder()
    {
        // nginx's documented sequence for weights a=5, b=1, c=1: a a b a c a a, then again.
        final Scheduler wrr = Schedulers.create(SchedulerKind.WRR,
            backends(Backend.of("198.18.10.2", 80, 5), Backend.of("198.18.10.3", 80, 1), Backend.of("198.18.10.4", 80, 1)), 0);
        final StringBuilder picks = new StringBuilder();
        for (int i = 0; i < 14; i++)
        {
            picks.append((char)('a' + wrr.select(0, 0, new int[0])));
        }
        assertThat(picks.toString()).isEqualTo("aabacaaaabacaa");
    }

    @Test
    void shouldMatchTheReferenceSmoothWeightedRoundRobinSkippingBackendsThatAreDownOrWeightless()
    {
        final BackendState[] backends = backends(Backend.of("198.18.10.2", 80, 7), Backend.of("198.18.10.3", 80, 3).withUp(false),
            Backend.of("198.18.10.4", 80, 0), Backend.of("198.18.10.5", 80, 2), Backend.of("198.18.10.6", 80, 7),
            Backend.of("198.18.10.7", 80, 1));
        final Scheduler wrr = Schedulers.create(SchedulerKind.WRR, backends, 0);
        final int[] current = new int[backends.length];
        for (int pick = 0; pick < 10_000; pick++)
        {
            // Reference: nginx's ngx_http_upstream_get_peer over the available backends, first maximum wins.
            int best = Scheduler.NONE;
            int total = 0;
            for (int i = 0; i < backends.length; i++)
            {
                if (backends[i].available())
                {
                    current[i] += backends[i].weight;
                    total += backends[i].weight;
                    if (best == Scheduler.NONE || current[i] > current[best])
                    {
                        best = i;
                    }
                }
            }
            current[best] -= total;
            assertThat(wrr.select(pick, pick, new int[0])).as("pick %d", pick).isEqualTo(best);
        }
    }

    @Test
    void shouldReturnNoneWhenNoBackendIsAvailable()
    {
        final Scheduler wrr = Schedulers.create(SchedulerKind.WRR, backends(Backend.of("198.18.10.2", 80, 1).withUp(false)), 0);
        assertThat(wrr.select(1, 1, new int[0])).isEqualTo(Scheduler.NONE);
    }

    @Test
    void shouldPeekTheBackendTheNextSelectChoosesAndTakeItLikeSelectInEveryScheduler()
    {
        final BackendState[] backends = backends(Backend.of("198.18.10.2", 80, 5), Backend.of("198.18.10.3", 80, 3).withUp(false),
            Backend.of("198.18.10.4", 80, 1), Backend.of("198.18.10.5", 80, 2), Backend.of("198.18.10.6", 80, 0),
            Backend.of("198.18.10.7", 80, 4));
        final int[] active = new int[backends.length + 1];
        for (final SchedulerKind kind : SchedulerKind.values())
        {
            final Scheduler scheduler = Schedulers.create(kind, backends, 0);
            final Scheduler twin = Schedulers.create(kind, backends, 0);
            long hash = 0x9E37_79B9_7F4A_7C15L;
            for (int pick = 0; pick < 2_000; pick++)
            {
                hash = hash * 6_364_136_223_846_793_005L + 1_442_695_040_888_963_407L;
                final long flowHash = hash;
                final long sourceHash = Long.rotateLeft(hash, 23);
                // Peeking (any number of times) neither changes the choice nor the sequence: the twin never peeks.
                final int peeked = scheduler.peek(flowHash, sourceHash, active);
                assertThat(scheduler.peek(flowHash, sourceHash, active)).isEqualTo(peeked);
                // Every other pick is taken (peek's choice committed), the others selected afresh.
                final int selected = pick % 2 == 0 ? scheduler.take(peeked, flowHash, sourceHash, active) :
                    scheduler.select(flowHash, sourceHash, active);
                assertThat(selected).as("%s pick %d", kind, pick).isEqualTo(peeked)
                    .isEqualTo(twin.select(flowHash, sourceHash, active));
                if (selected != Scheduler.NONE)
                {
                    active[backends[selected].id] += (pick % 3 == 0) ? 1 : 0;
                }
            }
        }
    }

    @Test
    void shouldPeekNoneWhenNoBackendIsAvailable()
    {
        for (final SchedulerKind kind : SchedulerKind.values())
        {
            final Scheduler scheduler = Schedulers.create(kind, backends(Backend.of("198.18.10.2", 80, 1).withUp(false)), 0);
            assertThat(scheduler.peek(1, 1, new int[2])).as("%s", kind).isEqualTo(Scheduler.NONE);
            assertThat(scheduler.take(Scheduler.NONE, 1, 1, new int[2])).as("%s", kind).isEqualTo(Scheduler.NONE);
        }
    }

    private static BackendState[] backends(final Backend... configs)
    {
        final List<BackendState> states = new ArrayList<>();
        for (int i = 0; i < configs.length; i++)
        {
            states.add(new BackendState(i + 1, configs[i], new CounterSet(new AtomicCounter[0])));
        }
        return states.toArray(new BackendState[0]);
    }
}
