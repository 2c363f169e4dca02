package io.sluice.control.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * What changes between two configs, object by object: load balancers, listeners, server groups and servers, each
 * named as the CLI names it ({@code web}, {@code web/tcp:80}, {@code web/app}, {@code web/app/198.18.10.2:8080}).
 * Used by {@code sluice diff}, by {@code apply}'s summary and by the journal.
 */
public final class ConfigDiff
{
    /**
     * One change.
     *
     * @param op     '+' added, '-' removed, '~' changed.
     * @param kind   loadbalancer | listener | servergroup | server.
     * @param name   the object's CLI name.
     * @param detail for a change, which keys changed.
     */
    public record Change(char op, String kind, String name, String detail)
    {
        @Override
        public String toString()
        {
            return op + " " + kind + " " + name + (detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    private ConfigDiff()
    {
    }

    public static List<Change> between(final List<LoadBalancer> before, final List<LoadBalancer> after)
    {
        final List<Change> changes = new ArrayList<>();
        compare(changes, "loadbalancer", "", index(before, LoadBalancer::name), index(after, LoadBalancer::name), (a, b) ->
        {
            final List<String> keys = new ArrayList<>();
            if (!a.vip().equals(b.vip()))
            {
                keys.add("vip " + a.vip() + " → " + b.vip());
            }
            if (a.bandwidthMbps() != b.bandwidthMbps())
            {
                keys.add("bandwidthMbps " + a.bandwidthMbps() + " → " + b.bandwidthMbps());
            }
            return String.join(", ", keys);
        });
        for (final LoadBalancer lb : after)
        {
            final LoadBalancer old = before.stream().filter(b -> b.name().equals(lb.name())).findFirst().orElse(null);
            final String prefix = lb.name() + "/";
            compare(changes, "listener", prefix, index(old == null ? List.of() : old.listeners(), Listener::key),
                index(lb.listeners(), Listener::key), ConfigDiff::listenerDetail);
            final Map<String, ServerGroup> oldGroups = index(old == null ? List.of() : old.serverGroups(), ServerGroup::name);
            final Map<String, ServerGroup> newGroups = index(lb.serverGroups(), ServerGroup::name);
            compare(changes, "servergroup", prefix, oldGroups, newGroups, (a, b) ->
                a.http2() != b.http2() || !java.util.Objects.equals(a.tls(), b.tls()) ? "http2/tls" : "");
            for (final ServerGroup group : lb.serverGroups())
            {
                final ServerGroup oldGroup = oldGroups.get(group.name());
                compare(changes, "server", prefix + group.name() + "/",
                    index(oldGroup == null ? List.of() : oldGroup.servers(), ServerGroup.Server::key),
                    index(group.servers(), ServerGroup.Server::key),
                    (a, b) -> a.weight() != b.weight() ? "weight " + a.weight() + " → " + b.weight() : "");
            }
        }
        return changes;
    }

    private static String listenerDetail(final Listener a, final Listener b)
    {
        final List<String> keys = new ArrayList<>();
        for (final var component : Listener.class.getRecordComponents())
        {
            try
            {
                final Object x = component.getAccessor().invoke(a);
                final Object y = component.getAccessor().invoke(b);
                if (!Objects.equals(x, y))
                {
                    keys.add(component.getName());
                }
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
        return String.join(", ", keys);
    }

    private static <T> Map<String, T> index(final List<T> items, final Function<T, String> key)
    {
        final Map<String, T> map = new LinkedHashMap<>();
        for (final T item : items)
        {
            map.put(key.apply(item), item);
        }
        return map;
    }

    private static <T> void compare(final List<Change> out, final String kind, final String prefix, final Map<String, T> before,
        final Map<String, T> after, final java.util.function.BiFunction<T, T, String> detail)
    {
        for (final Map.Entry<String, T> entry : before.entrySet())
        {
            if (!after.containsKey(entry.getKey()))
            {
                out.add(new Change('-', kind, prefix + entry.getKey(), ""));
            }
        }
        for (final Map.Entry<String, T> entry : after.entrySet())
        {
            final T old = before.get(entry.getKey());
            if (old == null)
            {
                out.add(new Change('+', kind, prefix + entry.getKey(), ""));
            }
            else if (!old.equals(entry.getValue()))
            {
                final String what = detail.apply(old, entry.getValue());
                if (!what.isEmpty())
                {
                    out.add(new Change('~', kind, prefix + entry.getKey(), what));
                }
            }
        }
    }

    /** One line for the journal and apply's output. */
    public static String summary(final List<Change> changes)
    {
        if (changes.isEmpty())
        {
            return "no change";
        }
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < changes.size() && i < 6; i++)
        {
            sb.append(i == 0 ? "" : "; ").append(changes.get(i));
        }
        if (changes.size() > 6)
        {
            sb.append("; and ").append(changes.size() - 6).append(" more");
        }
        return sb.toString();
    }
}
