package io.sluice.fastpath.session;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static io.sluice.fastpath.session.SessionLayout.BACKEND_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.BACKEND_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LAST_SEEN_NS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.PROTOCOL_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.STATE_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.TIMEOUT_SECONDS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_PORT_OFFSET;
import static org.assertj.core.api.Assertions.assertThat;

class SessionTableTest
{
    private static final long SECOND = 1_000_000_000L;

    private static int add(final SessionTable table, final int client, final int localPort, final long now, final int timeoutSeconds)
    {
        final int record = table.allocate();
        if (record < 0)
        {
            return record;
        }
        final UnsafeBuffer r = table.records();
        final int base = SessionTable.offset(record);
        r.putByte(base + STATE_OFFSET, SessionLayout.STATE_UDP);
        r.putByte(base + PROTOCOL_OFFSET, (byte)17);
        r.putLong(base + CLIENT_ADDRESS_OFFSET + 8, 0x0000_FFFF_C612_0000L + client);
        r.putLong(base + VIP_ADDRESS_OFFSET + 8, 0x0000_FFFF_C612_0164L);
        r.putLong(base + BACKEND_ADDRESS_OFFSET + 8, 0x0000_FFFF_C612_0A02L);
        r.putLong(base + LOCAL_ADDRESS_OFFSET + 8, 0x0000_FFFF_C612_020AL);
        r.putShort(base + CLIENT_PORT_OFFSET, (short)(client * 7));
        r.putShort(base + VIP_PORT_OFFSET, (short)53);
        r.putShort(base + BACKEND_PORT_OFFSET, (short)5353);
        r.putShort(base + LOCAL_PORT_OFFSET, (short)localPort);
        r.putShort(base + TIMEOUT_SECONDS_OFFSET, (short)timeoutSeconds);
        r.putLong(base + LAST_SEEN_NS_OFFSET, now);
        table.insert(record, now + timeoutSeconds * SECOND);
        return record;
    }

    private static int lookupClient(final SessionTable table, final int client)
    {
        return table.lookup(0, 0x0000_FFFF_C612_0000L + client, 0, 0x0000_FFFF_C612_0164L, client * 7 & 0xFFFF, 53, 17);
    }

    private static int lookupReply(final SessionTable table, final int localPort)
    {
        return table.lookup(0, 0x0000_FFFF_C612_0A02L, 0, 0x0000_FFFF_C612_020AL, 5353, localPort, 17);
    }

    @Test
    void shouldFindEverySessionByBothKeysThroughRandomInsertsAndRemovals()
    {
        final long now = 1_000 * SECOND;
        try (SessionTable table = new SessionTable(50_000, SECOND, 4096, now))
        {
            final SplittableRandom random = new SplittableRandom(3);
            // Closed records wait for their wheel slot before reuse; time stands still here, so size for every insert.
            final Map<Integer, Integer> live = new HashMap<>();
            for (int step = 0; step < 50_000; step++)
            {
                final int client = random.nextInt(8000);
                if (live.containsKey(client))
                {
                    final int record = live.remove(client);
                    table.close(record);
                }
                else if (live.size() < 4000)
                {
                    live.put(client, add(table, client, 1024 + client, now, 30));
                }
                if (step % 5000 == 0)
                {
                    for (final Map.Entry<Integer, Integer> e : live.entrySet())
                    {
                        assertThat(lookupClient(table, e.getKey())).isEqualTo(e.getValue() << 1);
                        assertThat(lookupReply(table, 1024 + e.getKey())).isEqualTo(e.getValue() << 1 | 1);
                    }
                }
            }
            for (int client = 0; client < 8000; client++)
            {
                assertThat(lookupClient(table, client) >= 0).isEqualTo(live.containsKey(client));
            }
            assertThat(table.liveCount()).isEqualTo(live.size());
        }
    }

    @Test
    void shouldExpireIdleSessionsWithinABoundedBudgetPerCall()
    {
        final long start = 1_000 * SECOND;
        try (SessionTable table = new SessionTable(1000, SECOND, 64, start))
        {
            final List<Integer> expired = new ArrayList<>();
            for (int i = 0; i < 500; i++)
            {
                add(table, i, 2000 + i, start, i < 250 ? 10 : 100);
            }
            assertThat(table.expire(start + 9 * SECOND, 1000, (r, closed) -> expired.add(r))).isZero();
            int work;
            int calls = 0;
            do
            {
                work = table.expire(start + 11 * SECOND, 50, (r, closed) -> expired.add(r));
                assertThat(work).isLessThanOrEqualTo(50);
                calls++;
            }
            while (work > 0);
            assertThat(calls).isGreaterThan(5);
            assertThat(expired).hasSize(250);
            assertThat(table.liveCount()).isEqualTo(250);
            // 100 s is beyond one 64-slot revolution: those sessions are re-linked, not expired early.
            while (table.expire(start + 99 * SECOND, 1000, (r, closed) -> expired.add(r)) > 0)
            {
                assertThat(expired).hasSize(250);
            }
            assertThat(table.liveCount()).isEqualTo(250);
            while (table.expire(start + 101 * SECOND, 1000, (r, closed) -> expired.add(r)) > 0)
            {
                assertThat(table.liveCount()).isGreaterThanOrEqualTo(0);
            }
            assertThat(table.liveCount()).isZero();
            assertThat(table.recordsInUse()).isZero();
        }
    }

    @Test
    void shouldRefuseAllocationWhenFullAndReuseFreedRecords()
    {
        final long now = SECOND;
        try (SessionTable table = new SessionTable(3, SECOND, 64, now))
        {
            for (int i = 0; i < 3; i++)
            {
                assertThat(add(table, i, 3000 + i, now, 1)).isGreaterThanOrEqualTo(0);
            }
            assertThat(table.allocate()).isEqualTo(SessionTable.NO_RECORD);
            while (table.expire(now + 3 * SECOND, 100, (r, closed) ->
            {
            }) > 0)
            {
                assertThat(table.recordsInUse()).isLessThanOrEqualTo(3);
            }
            assertThat(add(table, 9, 3009, now + 3 * SECOND, 1)).isGreaterThanOrEqualTo(0);
        }
    }

    @Test
    void shouldDocumentTheMemoryPerSession()
    {
        try (SessionTable table = new SessionTable(1_000_000, SECOND, 4096, 0))
        {
            final double perSession = (table.recordBytes() + table.indexBytes()) / 1_000_000.0;
            assertThat(perSession).isBetween(128.0 + 12.8, 128.0 + 25.6);
        }
    }
}
