package io.sluice.control.node;

import io.sluice.control.health.HealthChecker;

import java.util.List;

/**
 * A part of the node that serves traffic (the L7 proxy, the L4 fastpath): it follows config changes as a
 * {@link ConfigTarget}, follows server health, says why it is not ready, and drains and stops with the node.
 */
public interface NodeComponent extends ConfigTarget, HealthChecker.StateListener, Node.Drainable
{
    /** Why this component is not ready to serve (listeners that cannot bind, certificates missing); empty when ready. */
    List<String> notReadyReasons();
}
