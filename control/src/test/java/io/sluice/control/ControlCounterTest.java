package io.sluice.control;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ControlCounterTest
{
    @Test
    void shouldKeepEveryIdInTheControlRangeAndUnique()
    {
        final Set<Integer> ids = new HashSet<>();
        final Set<String> labels = new HashSet<>();
        for (final ControlCounter c : ControlCounter.values())
        {
            assertThat(c.typeId()).as(c.name()).isBetween(600, 699);
            assertThat(ids.add(c.typeId())).as("id of " + c + " unique").isTrue();
            assertThat(labels.add(c.label())).as("label of " + c + " unique").isTrue();
        }
    }

    @Test
    void shouldPartitionTheCountersIntoBlocksNamedForTheirPart()
    {
        final Map<Integer, String> prefixes = Map.of(ControlCounter.NODE_BLOCK, "node.", ControlCounter.HEALTH_BLOCK, "health.",
            ControlCounter.API_BLOCK, "api.", ControlCounter.USAGE_BLOCK, "usage.", ControlCounter.CLUSTER_BLOCK, "cluster.");
        final Set<ControlCounter> seen = EnumSet.noneOf(ControlCounter.class);
        prefixes.forEach((first, prefix) ->
        {
            assertThat(ControlCounter.block(first)).isNotEmpty();
            for (final ControlCounter c : ControlCounter.block(first))
            {
                assertThat(c.label()).startsWith(prefix);
                assertThat(seen.add(c)).isTrue();
            }
        });
        assertThat(seen).containsExactlyInAnyOrder(ControlCounter.values());
    }

    @Test
    void shouldKeepTheIdsAndLabelsSluiceStatAndDashboardsReadUnchanged()
    {
        assertThat(ControlCounter.NODE_STATE.typeId()).isEqualTo(600);
        assertThat(ControlCounter.HEALTH_PROBES.label()).isEqualTo("health.probes");
        assertThat(ControlCounter.API_REQUESTS.typeId()).isEqualTo(620);
        assertThat(ControlCounter.API_AUTH_FAILURES.typeId()).isEqualTo(621);
        assertThat(ControlCounter.USAGE_RECORDS.typeId()).isEqualTo(630);
        assertThat(ControlCounter.CLUSTER_LIVE_NODES.typeId()).isEqualTo(647);
        assertThat(ControlCounter.CLUSTER_LIVE_NODES.label()).isEqualTo("cluster.live_nodes");
    }
}
