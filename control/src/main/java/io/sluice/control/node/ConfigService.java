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

    private final ConfigJournal journal;
    private final List<ConfigTarget> targets = new CopyOnWriteArrayList<>();
    private final AtomicCounter versionCounter;
    private volatile SluiceConfig current;
    private volatile long version;

    /**
     * @param startConfig    the config the node started with (its node and cluster sections stay for good).
     * @param journal        the journal, or null for none.
     * @param versionCounter shows the version in the counters file.
     */
    public ConfigService(final SluiceConfig startConfig, final ConfigJournal journal, final AtomicCounter versionCounter)
    {
        this.current = startConfig;
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
        final SluiceConfig file = current;
        if (latest == null)
        {
            version = 1;
            journal("file", "seed from config file", ConfigDiff.summary(ConfigDiff.between(List.of(), file.loadBalancers())));
        }
        else
        {
            final SluiceConfig journaled = ConfigLoader.validate(withNode(ConfigLoader.tree(latest.configJson(), "journal")),
                "journal version " + latest.version());
            current = file.withLoadBalancers(journaled.loadBalancers());
            version = latest.version();
            LOG.log(System.Logger.Level.INFO, "restored config version " + version + " from the journal");
            if (configWins)
            {
                final List<ConfigDiff.Change> changes = ConfigDiff.between(current.loadBalancers(), file.loadBalancers());
                current = file;
                version++;
                journal("file", "--config-wins", ConfigDiff.summary(changes));
            }
        }
        versionCounter.setRelease(version);
    }

    public void addTarget(final ConfigTarget target)
    {
        targets.add(target);
    }

    public SluiceConfig current()
    {
        return current;
    }

    public long version()
    {
        return version;
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
        if (expectedVersion >= 0 && expectedVersion != version)
        {
            throw new VersionConflictException(expectedVersion, version);
        }
        final ObjectNode tree = withNode(ConfigLoader.jsonWriter().createObjectNode());
        tree.set("loadBalancers", loadBalancersTree);
        final SluiceConfig next = current.withLoadBalancers(ConfigLoader.validate(tree, "request").loadBalancers());
        final List<ConfigDiff.Change> changes = ConfigDiff.between(current.loadBalancers(), next.loadBalancers());
        if (changes.isEmpty())
        {
            return new Applied(version, changes);
        }
        final SluiceConfig previous = current;
        final List<ConfigTarget> done = new ArrayList<>();
        for (final ConfigTarget target : targets)
        {
            try
            {
                target.apply(previous, next);
                done.add(target);
            }
            catch (final Exception ex)
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
                throw new ApplyFailedException(target.name() + ": " + ex.getMessage() + " (nothing applied)", ex);
            }
        }
        current = next;
        version++;
        versionCounter.setRelease(version);
        journal(user, action, ConfigDiff.summary(changes));
        return new Applied(version, changes);
    }

    /** Applies a change that {@code edit} makes in place on (a copy of) the current load balancers' JSON tree. */
    public synchronized Applied edit(final java.util.function.Consumer<JsonNode> edit, final long expectedVersion,
        final String user, final String action)
    {
        if (expectedVersion >= 0 && expectedVersion != version)
        {
            throw new VersionConflictException(expectedVersion, version);
        }
        final JsonNode tree = loadBalancersTree();
        edit.accept(tree);
        return apply(tree, expectedVersion, user, action);
    }

    /** The current load balancers as a JSON tree (a copy). */
    public JsonNode loadBalancersTree()
    {
        return ConfigLoader.jsonWriter().valueToTree(current.loadBalancers());
    }

    public List<ConfigJournal.Entry> history()
    {
        return journal == null ? List.of() : journal.entries();
    }

    private ObjectNode withNode(final JsonNode tree)
    {
        // Validate against this node's sections too (local-address families, backupFor), as the file was at start.
        final ObjectNode full = (ObjectNode)tree;
        full.put("apiVersion", SluiceConfig.API_VERSION);
        if (current.node() != null)
        {
            full.set("node", ConfigLoader.jsonWriter().valueToTree(current.node()));
        }
        if (current.cluster() != null)
        {
            full.set("cluster", ConfigLoader.jsonWriter().valueToTree(current.cluster()));
        }
        return full;
    }

    private void journal(final String user, final String action, final String summary)
    {
        if (journal == null)
        {
            return;
        }
        try
        {
            final ObjectNode body = ConfigLoader.jsonWriter().createObjectNode();
            body.put("apiVersion", SluiceConfig.API_VERSION);
            body.set("loadBalancers", loadBalancersTree());
            journal.append(new ConfigJournal.Entry(version, System.currentTimeMillis(), user, action, summary,
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
        return current.loadBalancer(name);
    }
}
