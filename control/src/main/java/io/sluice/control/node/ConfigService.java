package io.sluice.control.node;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.control.config.ConfigDiff;
import io.sluice.control.config.ConfigException;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.journal.ConfigJournal;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The node's config and its version: the single writer through which every change (file at start, API, drain timers)
 * goes. A change is validated whole, applied to every {@link ConfigTarget} or rolled back everywhere, then journaled.
 */
public final class ConfigService
{
    private static final System.Logger LOG = System.getLogger(ConfigService.class.getName());

    /** The change was refused: the config's version is not the one the caller based it on. */
    public static final class VersionConflictException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        VersionConflictException(final long expected, final long actual)
        {
            super("config version is " + actual + ", the change was based on " + expected);
        }
    }

    /** A target failed; everything was rolled back. */
    public static final class ApplyFailedException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        ApplyFailedException(final String message, final Throwable cause)
        {
            super(message, cause);
        }
    }

    /**
     * The outcome of an applied change.
     *
     * @param version the config's new version (unchanged when nothing changed).
     * @param changes what changed.
     */
    public record Applied(long version, List<ConfigDiff.Change> changes)
    {
    }

    /**
     * A config and its version, published together so a reader never pairs one version with another's config.
     *
     * @param config  the config.
     * @param version its version.
     */
    public record Snapshot(SluiceConfig config, long version)
    {
    }

    private final ConfigJournal journal;
    private final List<ConfigTarget> targets = new CopyOnWriteArrayList<>();
    private final AtomicCounter versionCounter;
    private volatile Snapshot state;

    /**
     * @param startConfig    the config the node started with (its node and cluster sections stay for good).
     * @param journal        the journal, or null for none.
     * @param versionCounter shows the version in the counters file.
     */
    public ConfigService(final SluiceConfig startConfig, final ConfigJournal journal, final AtomicCounter versionCounter)
    {
        this.state = new Snapshot(startConfig, 0);
        this.journal = journal;
        this.versionCounter = versionCounter;
    }

    /**
     * Decides the config to start with: the journal's latest when it has one (the file only seeds an empty journal),
     * and with {@code configWins} the file's load balancers on top as a new entry. Targets are not called: the caller
     * starts its components from {@link #current()}.
     */
    public void restore(final boolean configWins)
    {
        final ConfigJournal.Entry latest = journal == null ? null : journal.latest();
        final SluiceConfig file = state.config();
        if (latest == null)
        {
            state = new Snapshot(file, 1);
            journal(state, "file", "seed from config file", ConfigDiff.summary(ConfigDiff.between(List.of(), file.loadBalancers())));
        }
        else if (configWins)
        {
            // The file wins: the journal gives only its version, so a journaled config that no longer fits this node's
            // sections (say an IPv6 VIP after IPv6 local addresses were dropped) cannot keep the node from starting.
            state = new Snapshot(file, latest.version() + 1);
            journal(state, "file", "--config-wins", "loadBalancers from the config file");
        }
        else
        {
            final SluiceConfig journaled = ConfigLoader.validate(withNode(ConfigLoader.tree(latest.configJson(), "journal"), file),
                "journal version " + latest.version() + " (start with --config-wins to replace it with the file's load balancers)");
            state = new Snapshot(file.withLoadBalancers(journaled.loadBalancers()), latest.version());
            LOG.log(System.Logger.Level.INFO, "restored config version " + latest.version() + " from the journal");
        }
        versionCounter.setRelease(state.version());
    }

    public void addTarget(final ConfigTarget target)
    {
        targets.add(target);
    }

    public SluiceConfig current()
    {
        return state.config();
    }

    public long version()
    {
        return state.version();
    }

    /** The config and its version, read together. */
    public Snapshot snapshot()
    {
        return state;
    }

    /**
     * Validates and applies a new set of load balancers.
     *
     * @param loadBalancersTree the {@code loadBalancers} list as a JSON tree (from the API or a file).
     * @param expectedVersion   the version the change was based on, or -1 to apply whatever the current version.
     * @param user              who (journal).
     * @param action            what request (journal).
     * @return the outcome.
     * @throws ConfigException           invalid, with every error's key path; nothing applied.
     * @throws VersionConflictException  the config moved on since {@code expectedVersion}.
     * @throws ApplyFailedException      a target refused; everything rolled back.
     */
    public synchronized Applied apply(final JsonNode loadBalancersTree, final long expectedVersion, final String user,
        final String action)
    {
        final Snapshot before = state;
        if (expectedVersion >= 0 && expectedVersion != before.version())
        {
            throw new VersionConflictException(expectedVersion, before.version());
        }
        final ObjectNode tree = withNode(ConfigLoader.jsonWriter().createObjectNode(), before.config());
        tree.set("loadBalancers", loadBalancersTree);
        final SluiceConfig previous = before.config();
        final SluiceConfig next = previous.withLoadBalancers(ConfigLoader.validate(tree, "request").loadBalancers());
        final List<ConfigDiff.Change> changes = ConfigDiff.between(previous.loadBalancers(), next.loadBalancers());
        if (changes.isEmpty())
        {
            return new Applied(before.version(), changes);
        }
        final List<ConfigTarget> done = new ArrayList<>();
        for (final ConfigTarget target : targets)
        {
            try
            {
                done.add(target);
                target.apply(previous, next);
            }
            catch (final Exception ex)
            {
                // The failing target too is given the previous config back: it may have changed part of itself.
                rollBack(done, previous, next);
                throw new ApplyFailedException(target.name() + ": " + ex.getMessage() + " (nothing applied)", ex);
            }
        }
        final Snapshot after = new Snapshot(next, before.version() + 1);
        try
        {
            // Journaled before it is published: a change the journal does not hold would be lost at the next restart.
            journal(after, user, action, ConfigDiff.summary(changes));
        }
        catch (final RuntimeException ex)
        {
            rollBack(done, previous, next);
            throw new ApplyFailedException("config journal: " + ex.getMessage() + " (nothing applied)", ex);
        }
        state = after;
        versionCounter.setRelease(after.version());
        return new Applied(after.version(), changes);
    }

    private static void rollBack(final List<ConfigTarget> done, final SluiceConfig previous, final SluiceConfig next)
    {
        for (int i = done.size() - 1; i >= 0; i--)
        {
            try
            {
                done.get(i).apply(next, previous);
            }
            catch (final Exception rollbackFailure)
            {
                LOG.log(System.Logger.Level.ERROR, "rollback of " + done.get(i).name() + " failed", rollbackFailure);
            }
        }
    }

    /** Applies a change that {@code edit} makes in place on (a copy of) the current load balancers' JSON tree. */
    public synchronized Applied edit(final java.util.function.Consumer<JsonNode> edit, final long expectedVersion,
        final String user, final String action)
    {
        if (expectedVersion >= 0 && expectedVersion != state.version())
        {
            throw new VersionConflictException(expectedVersion, state.version());
        }
        final JsonNode tree = loadBalancersTree();
        edit.accept(tree);
        return apply(tree, expectedVersion, user, action);
    }

    /** The current load balancers as a JSON tree (a copy). */
    public JsonNode loadBalancersTree()
    {
        return ConfigLoader.jsonWriter().valueToTree(state.config().loadBalancers());
    }

    public List<ConfigJournal.Entry> history()
    {
        return journal == null ? List.of() : journal.entries();
    }

    private static ObjectNode withNode(final JsonNode tree, final SluiceConfig sections)
    {
        // Validate against this node's sections too (local-address families, backupFor), as the file was at start.
        final ObjectNode full = (ObjectNode)tree;
        full.put("apiVersion", SluiceConfig.API_VERSION);
        if (sections.node() != null)
        {
            full.set("node", ConfigLoader.jsonWriter().valueToTree(sections.node()));
        }
        if (sections.cluster() != null)
        {
            full.set("cluster", ConfigLoader.jsonWriter().valueToTree(sections.cluster()));
        }
        return full;
    }

    private void journal(final Snapshot snapshot, final String user, final String action, final String summary)
    {
        if (journal == null)
        {
            return;
        }
        try
        {
            final ObjectNode body = ConfigLoader.jsonWriter().createObjectNode();
            body.put("apiVersion", SluiceConfig.API_VERSION);
            body.set("loadBalancers", ConfigLoader.jsonWriter().valueToTree(snapshot.config().loadBalancers()));
            journal.append(new ConfigJournal.Entry(snapshot.version(), System.currentTimeMillis(), user, action, summary,
                ConfigLoader.jsonWriter().writeValueAsString(body)));
        }
        catch (final JsonProcessingException ex)
        {
            throw new IllegalStateException("cannot serialise config for the journal", ex);
        }
    }

    /** The current load balancer of that name, or null. */
    public LoadBalancer loadBalancer(final String name)
    {
        return state.config().loadBalancer(name);
    }
}
