package io.sluice.control.node;

import io.sluice.control.config.SluiceConfig;

/**
 * A part of the node that a config change must reach (kernel addresses, fastpath, L7 proxy, health checker). A change
 * is applied to every target in order; when one fails, those already changed are given the previous config back, in
 * reverse order, so a change lands everywhere or nowhere.
 */
public interface ConfigTarget
{
    /** Short name for errors and logs. */
    String name();

    /**
     * Moves this target from {@code previous} to {@code next}. Must leave the target as it was when it throws, and must
     * not disturb traffic of listeners the change does not touch.
     *
     * @throws Exception with a message the API returns to the user.
     */
    void apply(SluiceConfig previous, SluiceConfig next) throws Exception;
}
