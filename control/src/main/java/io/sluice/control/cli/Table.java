package io.sluice.control.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/** Readable tables for {@code sluice get} and {@code sluice history}. */
final class Table
{
    private Table()
    {
    }

    static String of(final ClientCommands.Kind kind, final JsonNode items)
    {
        final List<String[]> rows = new ArrayList<>();
        switch (kind)
        {
            case LOADBALANCER ->
            {
                rows.add(new String[] {"NAME", "VIP", "BANDWIDTH", "LISTENERS", "SERVER GROUPS"});
                for (final JsonNode lb : items)
                {
                    final List<String> listeners = new ArrayList<>();
                    lb.path("listeners").forEach(l -> listeners.add(l.path("protocol").asText() + ":" + l.path("port").asText()));
                    final List<String> groups = new ArrayList<>();
                    lb.path("serverGroups").forEach(g -> groups.add(g.path("name").asText()));
                    rows.add(new String[] {lb.path("name").asText(), lb.path("vip").asText(), mbps(lb.path("bandwidthMbps").asInt()),
                        String.join(",", listeners), String.join(",", groups)});
                }
            }
            case LISTENER ->
            {
                rows.add(new String[] {"LB", "LISTENER", "SERVER GROUP", "SCHEDULER", "IDLE", "BANDWIDTH", "OPTIONS"});
                for (final JsonNode l : items)
                {
                    final List<String> options = new ArrayList<>();
                    if (l.has("acl"))
                    {
                        options.add("acl " + l.path("acl").path("mode").asText());
                    }
                    for (final String flag : new String[] {"synProxy", "toa", "http2", "proxyProtocol"})
                    {
                        if (l.path(flag).asBoolean(false))
                        {
                            options.add(flag);
                        }
                    }
                    if (l.has("redirectTo"))
                    {
                        final JsonNode redirect = l.path("redirectTo");
                        options.add("redirect " + redirect.path("protocol").asText() + ":" + redirect.path("port").asText());
                    }
                    if (!l.path("rules").isEmpty())
                    {
                        options.add(l.path("rules").size() + " rules");
                    }
                    rows.add(new String[] {l.path("loadBalancer").asText("-"), l.path("protocol").asText() + ":" + l.path("port").asText(),
                        l.path("serverGroup").asText("-"), l.path("scheduler").asText(), l.path("idleTimeoutSeconds").asText() + "s",
                        mbps(l.path("bandwidthMbps").asInt()), String.join(", ", options)});
                }
            }
            case SERVERGROUP ->
            {
                rows.add(new String[] {"LB", "SERVER GROUP", "SERVERS", "PROTOCOL"});
                for (final JsonNode g : items)
                {
                    final List<String> servers = new ArrayList<>();
                    g.path("servers").forEach(s -> servers.add(s.path("address").asText() + ":" + s.path("port").asText()
                        + "(" + s.path("weight").asText() + ")"));
                    rows.add(new String[] {g.path("loadBalancer").asText("-"), g.path("name").asText(), String.join(" ", servers),
                        (g.path("http2").asBoolean() ? "h2" : "http/1.1") + (g.path("tls").path("enabled").asBoolean() ? "+tls" : "")});
                }
            }
            case SERVER ->
            {
                rows.add(new String[] {"LB", "SERVER GROUP", "SERVER", "WEIGHT"});
                for (final JsonNode s : items)
                {
                    rows.add(new String[] {s.path("loadBalancer").asText("-"), s.path("serverGroup").asText("-"),
                        s.path("address").asText() + ":" + s.path("port").asText(), s.path("weight").asText()});
                }
            }
            case CERTIFICATE ->
            {
                rows.add(new String[] {"CERTIFICATE", "USED BY"});
                for (final JsonNode c : items)
                {
                    final List<String> users = new ArrayList<>();
                    c.path("usedBy").forEach(u -> users.add(u.asText()));
                    rows.add(new String[] {c.path("name").asText(), String.join(", ", users)});
                }
            }
            default -> throw new IllegalArgumentException(kind.toString());
        }
        return render(rows);
    }

    private static String mbps(final int value)
    {
        return value < 0 ? "unlimited" : value + " Mbps";
    }

    static String render(final List<String[]> rows)
    {
        final int columns = rows.getFirst().length;
        final int[] widths = new int[columns];
        for (final String[] row : rows)
        {
            for (int c = 0; c < columns; c++)
            {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        final StringBuilder sb = new StringBuilder();
        for (final String[] row : rows)
        {
            for (int c = 0; c < columns; c++)
            {
                sb.append(c == columns - 1 ? row[c] : String.format("%-" + (widths[c] + 2) + "s", row[c]));
            }
            sb.append(System.lineSeparator());
        }
        return sb.toString();
    }
}
