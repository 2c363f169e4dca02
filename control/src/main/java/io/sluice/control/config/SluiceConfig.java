package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.sluice.control.config.Schema.Field;
import io.sluice.control.config.Schema.ListSpec;
import io.sluice.control.config.Schema.ObjectSpec;
import io.sluice.control.config.Schema.StringSpec;

import java.util.List;

/**
 * A whole config file: {@code apiVersion}, the node and cluster sections read at node start, and the
 * {@code loadBalancers} that {@code sluice apply} and the API change at run time.
 *
 * @param apiVersion    always {@code sluice/v1}.
 * @param node          this node, or null in a file meant for {@code sluice apply}.
 * @param cluster       session sync and failover, or null.
 * @param loadBalancers the load balancers.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SluiceConfig(String apiVersion, NodeConfig node, ClusterConfig cluster, List<LoadBalancer> loadBalancers)
{
    public static final String API_VERSION = "sluice/v1";

    static final Field<String> API_VERSION_FIELD = Field.required("apiVersion",
        StringSpec.matching("sluice/v1", "sluice/v1"), "The schema version: sluice/v1.");
    static final Field<NodeConfig> NODE = Field.optional("node", NodeConfig.SPEC, null,
        "This node (required by sluice node; ignored by sluice apply).");
    static final Field<ClusterConfig> CLUSTER = Field.optional("cluster", ClusterConfig.SPEC, null,
        "Session sync and failover (optional).");
    static final Field<List<LoadBalancer>> LOAD_BALANCERS = Field.optional("loadBalancers",
        new ListSpec<>(LoadBalancer.SPEC, 0, 1024), List.of(), "The load balancers.");

    public static final ObjectSpec<SluiceConfig> SPEC = new ObjectSpec<>("config", "A sluice config file.",
        v -> new SluiceConfig(v.get(API_VERSION_FIELD), v.get(NODE), v.get(CLUSTER), v.get(LOAD_BALANCERS)),
        API_VERSION_FIELD, NODE, CLUSTER, LOAD_BALANCERS);

    public SluiceConfig withLoadBalancers(final List<LoadBalancer> replacement)
    {
        return new SluiceConfig(apiVersion, node, cluster, List.copyOf(replacement));
    }

    public LoadBalancer loadBalancer(final String name)
    {
        for (final LoadBalancer lb : loadBalancers)
        {
            if (lb.name().equals(name))
            {
                return lb;
            }
        }
        return null;
    }
}
