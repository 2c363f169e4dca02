package io.sluice.l7;

import java.util.ArrayList;
import java.util.List;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Just enough cookie handling for persistence, as string surgery on the headers: the rest of the Cookie and Set-Cookie
 * values (attributes, other cookies, their order) passes through byte for byte.
 */
final class Cookies
{
    private Cookies()
    {
    }

    /** The value of cookie {@code name} in the request's Cookie header(s), or null. */
    static String requestCookie(final HttpHeaders headers, final String name)
    {
        for (final String header : headers.getAll(HttpHeaderNames.COOKIE))
        {
            int start = 0;
            while (start < header.length())
            {
                int end = header.indexOf(';', start);
                if (end < 0)
                {
                    end = header.length();
                }
                final String pair = header.substring(start, end).trim();
                final int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name))
                {
                    String value = pair.substring(eq + 1).trim();
                    if (value.length() >= 2 && value.charAt(0) == '"' && value.charAt(value.length() - 1) == '"')
                    {
                        value = value.substring(1, value.length() - 1);
                    }
                    return value;
                }
                start = end + 1;
            }
        }
        return null;
    }

    /** Sticky "server" mode, request side: {@code name=<serverId>.<value>} becomes {@code name=<value>} for the backend. */
    static void stripServerPrefix(final HttpHeaders headers, final String name)
    {
        final List<String> rewritten = new ArrayList<>();
        for (final String header : headers.getAll(HttpHeaderNames.COOKIE))
        {
            final StringBuilder out = new StringBuilder(header.length());
            for (final String part : header.split(";"))
            {
                String pair = part.trim();
                final int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name))
                {
                    final String value = pair.substring(eq + 1).trim();
                    final int dot = value.indexOf('.');
                    if (dot > 0)
                    {
                        pair = name + "=" + value.substring(dot + 1);
                    }
                }
                if (!pair.isEmpty())
                {
                    if (out.length() > 0)
                    {
                        out.append("; ");
                    }
                    out.append(pair);
                }
            }
            rewritten.add(out.toString());
        }
        headers.set(HttpHeaderNames.COOKIE, rewritten);
    }

    /** Sticky "server" mode, response side: the backend's {@code name=value} goes to the client as {@code name=<id>.value}. */
    static void prefixSetCookie(final HttpHeaders headers, final String name, final String serverId)
    {
        final List<String> values = headers.getAll(HttpHeaderNames.SET_COOKIE);
        boolean changed = false;
        final List<String> rewritten = new ArrayList<>(values.size());
        for (final String value : values)
        {
            final int eq = value.indexOf('=');
            if (eq > 0 && value.substring(0, eq).trim().equals(name))
            {
                rewritten.add(value.substring(0, eq + 1) + serverId + "." + value.substring(eq + 1).stripLeading());
                changed = true;
            }
            else
            {
                rewritten.add(value);
            }
        }
        if (changed)
        {
            headers.set(HttpHeaderNames.SET_COOKIE, rewritten);
        }
    }
}
