package io.sluice.l7;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RouterTest
{
    private final Map<String, GroupRuntime> groups = new HashMap<>();

    private Router router(final List<Rule> rules)
    {
        final HttpListener listener = HttpListener.builder("r", "127.0.0.1", 80).serverGroup("default")
            .serverGroups(List.of(group("default"), group("exact"), group("wild"), group("deep"), group("path")))
            .rules(rules).build();
        for (final ServerGroup group : listener.serverGroups())
        {
            groups.put(group.name(), new GroupRuntime(group, new ServerState[0], SchedulerType.RR));
        }
        return new Router(listener, groups);
    }

    private static ServerGroup group(final String name)
    {
        return new ServerGroup(name, List.of());
    }

    private static String target(final Router.Route route)
    {
        return route.group() != null ? route.group().name : "redirect";
    }

    @Test
    void shouldPreferExactHostThenLongestWildcardThenHostlessRules()
    {
        final Router router = router(List.of(
            new Rule("*.example.com", "/", "wild"),
            new Rule("*.deep.example.com", "/", "deep"),
            new Rule("www.example.com", "/", "exact"),
            new Rule(null, "/static", "path")));
        assertThat(target(router.route("www.example.com", "/x"))).isEqualTo("exact");
        assertThat(target(router.route("WWW.Example.com:8080", "/x"))).isEqualTo("exact");
        assertThat(target(router.route("a.example.com", "/x"))).isEqualTo("wild");
        assertThat(target(router.route("a.deep.example.com", "/x"))).isEqualTo("deep");
        assertThat(target(router.route("example.com", "/x"))).isEqualTo("default");
        assertThat(target(router.route("other.test", "/static/app.js"))).isEqualTo("path");
        assertThat(target(router.route(null, "/x"))).isEqualTo("default");
    }

    @Test
    void shouldRouteByPathAloneWhenNoRuleNamesAHost()
    {
        final Router router = router(List.of(new Rule(null, "/static", "path"), new Rule(null, "/static/deep", "deep")));
        assertThat(target(router.route("Any.Host:8080", "/static/deep/x"))).isEqualTo("deep");
        assertThat(target(router.route("[2001:2::1]:80", "/static/x"))).isEqualTo("path");
        assertThat(target(router.route(null, "/static"))).isEqualTo("path");
        assertThat(target(router.route("a.test", "/other"))).isEqualTo("default");
    }

    @Test
    void shouldPickTheLongestPathPrefixWithinAHost()
    {
        final Router router = router(List.of(
            new Rule("api.example.com", "/v1", "exact"),
            new Rule("api.example.com", "/v1/deep", "deep"),
            new Rule("api.example.com", "/old", null, new Redirect("https", 443))));
        assertThat(target(router.route("api.example.com", "/v1/deep/x"))).isEqualTo("deep");
        assertThat(target(router.route("api.example.com", "/v1/other"))).isEqualTo("exact");
        assertThat(target(router.route("api.example.com", "/old/page"))).isEqualTo("redirect");
        assertThat(target(router.route("api.example.com", "/"))).isEqualTo("default");
    }

    @Test
    void shouldStripPortAndBracketsFromHost()
    {
        assertThat(Router.hostOnly("[2001:2::1]:8080")).isEqualTo("2001:2::1");
        assertThat(Router.hostOnly("Example.COM.")).isEqualTo("example.com");
        assertThat(Router.hostOnly("")).isNull();
    }
}
