package io.sluice.l7;

/**
 * Session persistence by cookie.
 * <ul>
 *   <li>{@code INSERT}: the proxy sets its own cookie ({@link #INSERT_COOKIE_NAME}) naming the server, valid
 *   {@code cookieTimeoutSeconds}.</li>
 *   <li>{@code SERVER}: the backend sets {@code cookieName}; the proxy prefixes its value with the server id on the way
 *   out and strips the prefix on the way in, so the backend sees its own value.</li>
 * </ul>
 *
 * @param type                 insert or server.
 * @param cookieTimeoutSeconds Max-Age of an inserted cookie, 1..86400.
 * @param cookieName           the backend's cookie, required for server.
 */
public record StickySession(Type type, int cookieTimeoutSeconds, String cookieName)
{
    /** Which side owns the cookie. */
    public enum Type
    {
        INSERT,
        SERVER
    }

    public static final String INSERT_COOKIE_NAME = "SLUICE_STICKY";

    public StickySession
    {
        ConfigException.required("stickySession.type", type);
        if (type == Type.INSERT)
        {
            ConfigException.range("stickySession.cookieTimeoutSeconds", cookieTimeoutSeconds, 1, 86_400);
        }
        else if (cookieName == null || cookieName.isBlank())
        {
            throw new ConfigException("stickySession.cookieName: is required when stickySession.type is server");
        }
    }
}
