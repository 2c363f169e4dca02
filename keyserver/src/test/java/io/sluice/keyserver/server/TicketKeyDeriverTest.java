package io.sluice.keyserver.server;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TicketKeyDeriverTest
{
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes();
    private static final long HOUR = 3_600_000;

    @Test
    void shouldDeriveTheSameKeysFromTheSameSecretOnEveryMachine()
    {
        final List<byte[]> a = new TicketKeyDeriver(SECRET, HOUR).keysAt(10 * HOUR + 5);
        final List<byte[]> b = new TicketKeyDeriver(SECRET.clone(), HOUR).keysAt(10 * HOUR + 999_999);
        assertThat(a).hasSize(3);
        for (int i = 0; i < 3; i++)
        {
            assertThat(a.get(i)).hasSize(48).isEqualTo(b.get(i));
        }
        final byte[] other = SECRET.clone();
        other[0] ^= 1;
        assertThat(new TicketKeyDeriver(other, HOUR).keysAt(10 * HOUR).getFirst()).isNotEqualTo(a.getFirst());
    }

    @Test
    void shouldRotateEachPeriodKeepingThePreviousKeyForDecryption()
    {
        final TicketKeyDeriver d = new TicketKeyDeriver(SECRET, HOUR);
        final List<byte[]> now = d.keysAt(10 * HOUR);
        final List<byte[]> next = d.keysAt(11 * HOUR);
        assertThat(next.getFirst()).isEqualTo(now.get(2));
        assertThat(next.get(1)).isEqualTo(now.getFirst());
        assertThat(d.msUntilNextRotation(10 * HOUR + 1000)).isEqualTo(HOUR - 1000);
    }
}
