package io.sluice.l7;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A listener's rules compiled for lookup: exact hosts in a map, wildcards longest suffix first, then host-less rules;
 * within the first host class that has a matching path, the longest path prefix wins; otherwise the default.
 */
final class Router
{
    /** Where a request goes: a group or a redirect (exactly one is set). */
    record Route(GroupRuntime group, Redirect redirect)
    {
    }

    private record Entry(String path, Route route)
    {
    }

    private record Wildcard(String suffix, List<Entry> entries)
    {
    }

    private final Map<String, List<Entry>> exact = new HashMap<>();
    private final List<Wildcard> wildcards = new ArrayList<>();
    private final List<Entry> anyHost = new ArrayList<>();
    private final Route fallback;

    Router(final HttpListener listener, final Map<String, GroupRuntime> groups)
    {
        final Map<String, List<Entry>> wildcardMap = new HashMap<>();
        for (final Rule rule : listener.rules())
        {
            final Route route = rule.redirectTo() != null ? new Route(null, rule.redirectTo()) :
                new Route(groups.get(rule.serverGroup()), null);
            final Entry entry = new Entry(rule.path() == null ? "/" : rule.path(), route);
            if (rule.host() == null)
            {
                anyHost.add(entry);
            }
            else if (rule.host().startsWith("*."))
            {
                wildcardMap.computeIfAbsent(rule.host().substring(1), k -> new ArrayList<>()).add(entry);
            }
            else
            {
                exact.computeIfAbsent(rule.host(), k -> new ArrayList<>()).add(entry);
            }
        }
        final Comparator<Entry> longestPathFirst = Comparator.comparingInt((Entry e) -> e.path().length()).reversed();
        exact.values().forEach(list -> list.sort(longestPathFirst));
        anyHost.sort(longestPathFirst);
        wildcardMap.forEach((suffix, list) ->
        {
            list.sort(longestPathFirst);
            wildcards.add(new Wildcard(suffix, list));
        });
        wildcards.sort(Comparator.comparingInt((Wildcard w) -> w.suffix().length()).reversed());
        fallback = listener.redirectTo() != null ? new Route(null, listener.redirectTo()) :
            new Route(groups.get(listener.serverGroup()), null);
    }

    /**
     * @param hostHeader the Host header (may carry a port, may be null).
     * @param path       the request path (without query).
     */
    Route route(final String hostHeader, final String path)
    {
        // no host rules (the common listener): the Host header is not even cut and lower-cased (no garbage per request)
        final String host = exact.isEmpty() && wildcards.isEmpty() ? null : hostOnly(hostHeader);
        if (host != null)
        {
            final List<Entry> exactEntries = exact.get(host);
            if (exactEntries != null)
            {
                final Route route = longestPrefix(exactEntries, path);
                if (route != null)
                {
                    return route;
                }
            }
            for (int i = 0; i < wildcards.size(); i++)
            {
                final Wildcard wildcard = wildcards.get(i);
                // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com"
                if (host.endsWith(wildcard.suffix()) && host.length() > wildcard.suffix().length())
                {
                    final Route route = longestPrefix(wildcard.entries(), path);
                    if (route != null)
                    {
                        return route;
                    }
                }
            }
        }
        final Route route = longestPrefix(anyHost, path);
        return route != null ? route : fallback;
    }

    private static Route longestPrefix(final List<Entry> entries, final String path)
    {
        // indexed: an iterator per lookup was a measurable share of the allocation per request
        for (int i = 0; i < entries.size(); i++)
        {
            final Entry entry = entries.get(i);
            if (path.startsWith(entry.path()))
            {
                return entry.route();
            }
        }
        return null;
    }

    static String hostOnly(final String hostHeader)
    {
        if (hostHeader == null || hostHeader.isEmpty())
        {
            return null;
        }
        String host = hostHeader;
        if (host.charAt(0) == '[')
        {
            final int close = host.indexOf(']');
            host = close > 0 ? host.substring(1, close) : host;
        }
        else
        {
            final int colon = host.lastIndexOf(':');
            if (colon > 0)
            {
                host = host.substring(0, colon);
            }
        }
        if (host.endsWith("."))
        {
            host = host.substring(0, host.length() - 1);
        }
        return host.toLowerCase(Locale.ROOT);
    }
}
