package io.sluice.l7;

import java.util.EnumMap;
import java.util.Map;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/** The per-listener counters (ids 400–449) of one listener. Allocated when the listener starts, freed when it goes. */
final class ListenerCounters implements AutoCloseable
{
    final AtomicCounter accepted;
    final AtomicCounter active;
    final AtomicCounter aclDenied;
    final AtomicCounter maxConnectionsDropped;
    final AtomicCounter requests;
    final AtomicCounter[] responsesByClass = new AtomicCounter[6];
    final AtomicCounter badRequest;
    final AtomicCounter clientClosed;
    final AtomicCounter headerTooLarge;
    final AtomicCounter bodyTooLarge;
    final AtomicCounter headerTimeout;
    final AtomicCounter uriTooLong;
    final AtomicCounter smuggling;
    final AtomicCounter redirects;
    final AtomicCounter noBackend;
    final AtomicCounter connectFailures;
    final AtomicCounter retries;
    final AtomicCounter backendErrors;
    final AtomicCounter requestTimeouts;
    final AtomicCounter ejections;
    final AtomicCounter upgrades;
    final AtomicCounter poolReuses;
    final AtomicCounter backendConnects;
    final AtomicCounter tlsNotReady;
    final AtomicCounter bytesOut;
    final AtomicCounter bytesIn;
    final AtomicCounter slowBody;
    final AtomicCounter delayedWrites;
    final AtomicCounter delayedBytes;
    final AtomicCounter delayMicros;
    final AtomicCounter heldBytes;
    private final Map<L7Counter, AtomicCounter> all = new EnumMap<>(L7Counter.class);

    ListenerCounters(final CountersManager manager, final String listenerName)
    {
        for (final L7Counter counter : L7Counter.values())
        {
            if (counter.typeId() < 450 && counter != L7Counter.ACCESS_LOG_DROPS)
            {
                all.put(counter, manager.newCounter(counter.label() + "[" + listenerName + "]", counter.typeId()));
            }
        }
        accepted = all.get(L7Counter.CONNECTIONS_ACCEPTED);
        active = all.get(L7Counter.CONNECTIONS_ACTIVE);
        aclDenied = all.get(L7Counter.ACL_DENIED_DROPS);
        maxConnectionsDropped = all.get(L7Counter.MAX_CONNECTIONS_DROPS);
        requests = all.get(L7Counter.REQUESTS);
        responsesByClass[1] = all.get(L7Counter.RESPONSES_1XX);
        responsesByClass[2] = all.get(L7Counter.RESPONSES_2XX);
        responsesByClass[3] = all.get(L7Counter.RESPONSES_3XX);
        responsesByClass[4] = all.get(L7Counter.RESPONSES_4XX);
        responsesByClass[5] = all.get(L7Counter.RESPONSES_5XX);
        badRequest = all.get(L7Counter.BAD_REQUEST_DROPS);
        clientClosed = all.get(L7Counter.CLIENT_CLOSED_DROPS);
        headerTooLarge = all.get(L7Counter.HEADER_TOO_LARGE_DROPS);
        bodyTooLarge = all.get(L7Counter.BODY_TOO_LARGE_DROPS);
        headerTimeout = all.get(L7Counter.HEADER_TIMEOUT_DROPS);
        uriTooLong = all.get(L7Counter.URI_TOO_LONG_DROPS);
        smuggling = all.get(L7Counter.SMUGGLING_DROPS);
        redirects = all.get(L7Counter.REDIRECTS);
        noBackend = all.get(L7Counter.NO_BACKEND_DROPS);
        connectFailures = all.get(L7Counter.BACKEND_CONNECT_FAILURES);
        retries = all.get(L7Counter.RETRIES);
        backendErrors = all.get(L7Counter.BACKEND_ERRORS);
        requestTimeouts = all.get(L7Counter.REQUEST_TIMEOUTS);
        ejections = all.get(L7Counter.EJECTIONS);
        upgrades = all.get(L7Counter.UPGRADES);
        poolReuses = all.get(L7Counter.POOL_REUSES);
        backendConnects = all.get(L7Counter.BACKEND_CONNECTS);
        tlsNotReady = all.get(L7Counter.TLS_NOT_READY_DROPS);
        bytesOut = all.get(L7Counter.BYTES_OUT);
        bytesIn = all.get(L7Counter.BYTES_IN);
        slowBody = all.get(L7Counter.SLOW_BODY_DROPS);
        delayedWrites = all.get(L7Counter.BANDWIDTH_DELAYED_WRITES);
        delayedBytes = all.get(L7Counter.BANDWIDTH_DELAYED_BYTES);
        delayMicros = all.get(L7Counter.BANDWIDTH_DELAY_MICROS);
        heldBytes = all.get(L7Counter.BANDWIDTH_HELD_BYTES);
    }

    void countStatus(final int status)
    {
        final int statusClass = status / 100;
        if (statusClass >= 1 && statusClass <= 5)
        {
            responsesByClass[statusClass].increment();
        }
    }

    long get(final L7Counter counter)
    {
        final AtomicCounter atomicCounter = all.get(counter);
        return atomicCounter == null ? 0 : atomicCounter.get();
    }

    @Override
    public void close()
    {
        all.values().forEach(AtomicCounter::close);
    }
}
