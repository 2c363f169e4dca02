package io.sluice.control.usage;

import io.sluice.control.ControlCounter;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.SluiceConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class UsageMeterTest
{
    private static final long MINUTE = 60_000;
    private static final long T0 = 1_800_000_000_000L / MINUTE * MINUTE;

    @TempDir
    Path dir;

    private final CountersManager counters =
        new CountersManager(new UnsafeBuffer(new byte[1 << 18]), new UnsafeBuffer(new byte[1 << 16]));
    private final SluiceConfig config = ConfigLoader.parse("""
        apiVersion: sluice/v1
        loadBalancers:
          - name: web
            vip: 198.18.0.100
            listeners: [{protocol: tcp, port: 80, serverGroup: g}, {protocol: udp, port: 53, serverGroup: g}]
            serverGroups: [{name: g, servers: [{address: 198.18.10.2, port: 80}]}]
          - name: idle
            vip: 198.18.0.101
            listeners: [{protocol: tcp, port: 80, serverGroup: g}]
            serverGroups: [{name: g, servers: [{address: 198.18.10.2, port: 80}]}]
        """, "test");

    @Test
    void shouldRecordEachLoadBalancersOutboundAndInboundPerMinute()
    {
        final AtomicCounter tcpOut = counters.newCounter("fastpath.listener.bytes_out.web.tcp.80", 233);
        final AtomicCounter udpOut = counters.newCounter("fastpath.listener.bytes_out.web.udp.53", 233);
        final AtomicCounter tcpPacketsOut = counters.newCounter("fastpath.listener.packets_out.web.tcp.80", 232);
        final AtomicCounter tcpIn = counters.newCounter("fastpath.listener.bytes_in.web.tcp.80", 231);
        counters.newCounter("fastpath.listener.bytes_out.idle.tcp.80", 233);
        try (UsageJournal journal = UsageJournal.open(dir, null))
        {
            final UsageMeter meter = new UsageMeter(counters, () -> config, journal,
                ControlCounter.USAGE_RECORDS.newCounter(counters));
            tcpOut.set(1000);
            udpOut.set(500);
            tcpPacketsOut.set(10);
            tcpIn.set(70);
            assertThat(meter.sample(T0 + MINUTE)).isEqualTo(1);

            tcpOut.set(1600);
            tcpPacketsOut.set(16);
            assertThat(meter.sample(T0 + 2 * MINUTE)).isEqualTo(1);
            assertThat(meter.sample(T0 + 3 * MINUTE)).as("a quiet minute writes nothing").isZero();

            assertThat(journal.between(T0, T0 + 10 * MINUTE)).containsExactly(
                new UsageJournal.Record("web", T0, 1500, 10, 70, 0),
                new UsageJournal.Record("web", T0 + MINUTE, 600, 6, 0, 0));
            assertThat(journal.between(T0 + MINUTE, T0 + 2 * MINUTE)).hasSize(1);
        }
    }

    @Test
    void shouldCountARecreatedCounterWhole()
    {
        final AtomicCounter out = counters.newCounter("fastpath.listener.bytes_out.web.tcp.80", 233);
        try (UsageJournal journal = UsageJournal.open(dir, null))
        {
            final UsageMeter meter = new UsageMeter(counters, () -> config, journal, ControlCounter.USAGE_RECORDS.newCounter(counters));
            out.set(900);
            meter.sample(T0 + MINUTE);
            out.set(100);
            meter.sample(T0 + 2 * MINUTE);
            assertThat(journal.between(T0 + MINUTE, T0 + 2 * MINUTE).getFirst().bytesOut()).isEqualTo(100);
        }
    }

    @Test
    void shouldBillL7ListenersBytesAndRequestsToTheirLoadBalancer()
    {
        final SluiceConfig mixed = ConfigLoader.parse("""
            apiVersion: sluice/v1
            loadBalancers:
              - name: web
                vip: 198.18.0.100
                listeners: [{protocol: tcp, port: 22, serverGroup: g}, {protocol: http, port: 80, serverGroup: g}]
                serverGroups: [{name: g, servers: [{address: 198.18.10.2, port: 80}]}]
            """, "test");
        final AtomicCounter l4Out = counters.newCounter("fastpath.listener.bytes_out.web.tcp.22", 233);
        final AtomicCounter l7Out = counters.newCounter("l7.bytes_out[web/http:80]", 428);
        final AtomicCounter l7In = counters.newCounter("l7.bytes_in[web/http:80]", 429);
        final AtomicCounter l7Requests = counters.newCounter("l7.requests[web/http:80]", 404);
        counters.newCounter("l7.server.requests[web/http:80 198.18.10.2:80]", 450).set(99);
        try (UsageJournal journal = UsageJournal.open(dir, null))
        {
            final UsageMeter meter = new UsageMeter(counters, () -> mixed, journal, ControlCounter.USAGE_RECORDS.newCounter(counters));
            l4Out.set(100);
            l7Out.set(5000);
            l7In.set(700);
            l7Requests.set(7);
            meter.sample(T0 + MINUTE);
            l7Out.set(5500);
            l7Requests.set(8);
            meter.sample(T0 + 2 * MINUTE);
            assertThat(journal.between(T0, T0 + 10 * MINUTE)).containsExactly(
                new UsageJournal.Record("web", T0, 5100, 0, 700, 0, 7),
                new UsageJournal.Record("web", T0 + MINUTE, 500, 0, 0, 0, 1));
        }
    }
}
