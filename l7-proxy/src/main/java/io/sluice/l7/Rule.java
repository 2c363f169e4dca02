package io.sluice.l7;

/**
 * A forwarding rule: requests whose Host matches {@code host} (exact, or {@code *.suffix}; null = any host) and whose path
 * starts with {@code path} (null = "/") go to {@code serverGroup}, or are redirected when {@code redirectTo} is set.
 * Among matching rules an exact host beats a wildcard, a longer wildcard beats a shorter one, then the longest path wins.
 *
 * @param host        exact host, {@code *.example.com}, or null.
 * @param path        path prefix starting with "/", or null.
 * @param serverGroup target group (unless redirectTo is set).
 * @param redirectTo  optional redirect.
 */
public record Rule(String host, String path, String serverGroup, Redirect redirectTo)
{
    public Rule
    {
        if (path != null && !path.startsWith("/"))
        {
            throw new ConfigException("rules.path: " + path + " does not start with /");
        }
        if (host != null && host.startsWith("*") && !host.startsWith("*."))
        {
            throw new ConfigException("rules.host: " + host + " is not an exact host or *.suffix");
        }
        if (serverGroup == null && redirectTo == null)
        {
            throw new ConfigException("rules.serverGroup: is required unless redirectTo is set");
        }
        host = host == null ? null : host.toLowerCase(java.util.Locale.ROOT);
    }

    public Rule(final String host, final String path, final String serverGroup)
    {
        this(host, path, serverGroup, null);
    }
}
