package io.sluice.fastpath.lb;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Acl;
import io.sluice.fastpath.packet.IpAddresses;

import static org.assertj.core.api.Assertions.assertThat;

class AclMatcherTest
{
    private static boolean admits(final AclMatcher m, final String address)
    {
        final InetAddress a = IpAddresses.parse(address);
        return m.admits(IpAddresses.high(a), IpAddresses.low(a));
    }

    @Test
    void shouldAdmitOnlyListedPrefixesInAllowMode()
    {
        final AclMatcher m = AclMatcher.compile(Acl.allow("198.18.0.0/24", "198.19.5.5/32", "2001:2:1::/48", "2001:2::7/128"));
        assertThat(admits(m, "198.18.0.1")).isTrue();
        assertThat(admits(m, "198.18.0.255")).isTrue();
        assertThat(admits(m, "198.18.1.0")).isFalse();
        assertThat(admits(m, "198.19.5.5")).isTrue();
        assertThat(admits(m, "198.19.5.6")).isFalse();
        assertThat(admits(m, "2001:2:1:ffff::1")).isTrue();
        assertThat(admits(m, "2001:2:2::1")).isFalse();
        assertThat(admits(m, "2001:2::7")).isTrue();
        assertThat(admits(m, "2001:2::8")).isFalse();
    }

    @Test
    void shouldRefuseListedPrefixesInDenyMode()
    {
        final AclMatcher m = AclMatcher.compile(Acl.deny("198.18.0.0/15", "2001:2::/32"));
        assertThat(admits(m, "198.19.200.1")).isFalse();
        assertThat(admits(m, "198.20.0.1")).isTrue();
        assertThat(admits(m, "2001:2:ffff::1")).isFalse();
        assertThat(admits(m, "2001:3::1")).isTrue();
    }

    @Test
    void shouldKeepFamiliesApartAndHandleZeroLengthPrefixes()
    {
        final AclMatcher v4All = AclMatcher.compile(Acl.allow("0.0.0.0/0"));
        assertThat(admits(v4All, "203.0.113.9")).isTrue();
        assertThat(admits(v4All, "2001:2::1")).isFalse();
        final AclMatcher v6All = AclMatcher.compile(Acl.allow("::/0"));
        assertThat(admits(v6All, "2001:2::1")).isTrue();
        assertThat(admits(AclMatcher.compile(Acl.ALLOW_ALL), "198.18.0.1")).isTrue();
    }
}
