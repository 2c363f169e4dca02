package io.sluice.keyserver.server;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.keyserver.KeyServerCounter;
import io.sluice.keyserver.store.KeyDirectory;
import io.sluice.keyserver.store.StoredEntry;
import io.sluice.nativeio.crypto.PrivateKeyCrypto;

/**
 * The entries a running key server serves, reloaded when the key directory changes. Readers (poller, workers) see an
 * immutable snapshot through a volatile field; only the rescan thread writes it.
 */
public final class KeyRegistry implements AutoCloseable
{
    private static final Logger LOG = System.getLogger(KeyRegistry.class.getName());

    /** Key id as four longs, so the poller can look a key up straight from the request bytes. */
    public record KeyId(long a, long b, long c, long d)
    {
        public static KeyId of(final byte[] id)
        {
            final ByteBuffer bb = ByteBuffer.wrap(id).order(ByteOrder.LITTLE_ENDIAN);
            return new KeyId(bb.getLong(0), bb.getLong(8), bb.getLong(16), bb.getLong(24));
        }

        public static KeyId of(final DirectBuffer buffer, final int offset)
        {
            return new KeyId(buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN), buffer.getLong(offset + 8, ByteOrder.LITTLE_ENDIAN),
                buffer.getLong(offset + 16, ByteOrder.LITTLE_ENDIAN), buffer.getLong(offset + 24, ByteOrder.LITTLE_ENDIAN));
        }
    }

    /** One served entry: the certificate chain, the loaded key (null for a CA) and its operation counter. */
    public record Loaded(String name, StoredEntry.Kind kind, byte[] keyId, List<byte[]> chainDer, PrivateKeyCrypto.LoadedKey key,
        AtomicCounter ops, long stamp)
    {
    }

    /**
     * @param byKeyPrefix entries by the first 8 bytes of their key id (little endian): the poller's allocation-free lookup.
     * @param byKeyId entries by the whole key id, for the (2^-64) case of two ids sharing a prefix.
     * @param byName entries by name.
     */
    private record Snapshot(Long2ObjectHashMap<Loaded> byKeyPrefix, Map<KeyId, Loaded> byKeyId, Map<String, Loaded> byName)
    {
    }

    private final KeyDirectory directory;
    private final PrivateKeyCrypto crypto;
    private final CountersManager counters;
    private final AtomicCounter loadedGauge;
    private final AtomicCounter loadFailures;
    private final Map<String, Long> failedStamps = new HashMap<>();
    private volatile Snapshot snapshot = new Snapshot(new Long2ObjectHashMap<>(), Map.of(), Map.of());

    public KeyRegistry(final KeyDirectory directory, final PrivateKeyCrypto crypto, final CountersManager counters)
    {
        this.directory = directory;
        this.crypto = crypto;
        this.counters = counters;
        this.loadedGauge = KeyServerCounter.ENTRIES_LOADED.allocate(counters);
        this.loadFailures = KeyServerCounter.ENTRY_LOAD_FAILURES.allocate(counters);
    }

    public Loaded byKeyId(final KeyId id)
    {
        return snapshot.byKeyId().get(id);
    }

    /**
     * Look a key up straight from a request's bytes without allocating.
     *
     * @param buffer the request.
     * @param offset where its 32-byte key id starts.
     * @return the entry, or null when no certificate has this key id.
     */
    public Loaded byKeyId(final DirectBuffer buffer, final int offset)
    {
        final Snapshot s = snapshot;
        final Loaded candidate = s.byKeyPrefix().get(buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN));
        if (candidate == null)
        {
            return null;
        }
        final byte[] id = candidate.keyId();
        for (int i = 8; i < id.length; i++)
        {
            if (buffer.getByte(offset + i) != id[i])
            {
                return s.byKeyId().get(KeyId.of(buffer, offset));
            }
        }
        return candidate;
    }

    public Loaded byName(final String name)
    {
        return snapshot.byName().get(name);
    }

    public int size()
    {
        return snapshot.byName().size();
    }

    /**
     * Load new and changed entries, drop removed ones. Called from one thread only.
     *
     * @return true when anything changed.
     */
    public boolean rescan()
    {
        final Map<String, Long> stamps;
        try
        {
            stamps = directory.listStamps();
        }
        catch (final IOException ex)
        {
            LOG.log(Level.WARNING, "cannot list key directory " + directory.dir() + ": " + ex.getMessage());
            return false;
        }
        final Snapshot old = snapshot;
        boolean changed = false;
        final Map<String, Loaded> byName = new HashMap<>();
        for (final Map.Entry<String, Long> e : stamps.entrySet())
        {
            final Loaded current = old.byName().get(e.getKey());
            if (current != null && current.stamp() == e.getValue())
            {
                byName.put(e.getKey(), current);
                continue;
            }
            if (e.getValue().equals(failedStamps.get(e.getKey())))
            {
                continue;
            }
            final Loaded loaded = load(e.getKey(), e.getValue());
            if (loaded != null)
            {
                byName.put(e.getKey(), loaded);
                failedStamps.remove(e.getKey());
                changed = true;
            }
            else if (current != null)
            {
                // keep serving the previous version until a good one replaces it
                byName.put(e.getKey(), current);
            }
        }
        for (final Loaded l : old.byName().values())
        {
            if (byName.get(l.name()) != l)
            {
                changed = true;
            }
        }
        if (!changed)
        {
            return false;
        }
        final Map<KeyId, Loaded> byKeyId = new HashMap<>();
        final Long2ObjectHashMap<Loaded> byPrefix = new Long2ObjectHashMap<>();
        for (final Loaded l : byName.values())
        {
            if (l.kind() == StoredEntry.Kind.CERTIFICATE)
            {
                final KeyId id = KeyId.of(l.keyId());
                byKeyId.put(id, l);
                byPrefix.put(id.a(), l);
            }
        }
        snapshot = new Snapshot(byPrefix, Map.copyOf(byKeyId), Map.copyOf(byName));
        loadedGauge.set(byName.size());
        for (final Loaded l : old.byName().values())
        {
            if (byName.get(l.name()) != l)
            {
                retire(l);
            }
        }
        return true;
    }

    private Loaded load(final String name, final long stamp)
    {
        StoredEntry entry = null;
        try
        {
            entry = directory.load(name);
            PrivateKeyCrypto.LoadedKey key = null;
            AtomicCounter ops = null;
            if (entry.kind() == StoredEntry.Kind.CERTIFICATE)
            {
                key = crypto.loadPem(entry.keyPem());
                ops = KeyServerCounter.KEY_OPS.allocate(counters, name);
            }
            LOG.log(Level.INFO, "loaded " + entry.kind() + " " + name);
            return new Loaded(name, entry.kind(), entry.keyId(), entry.chainDer(), key, ops, stamp);
        }
        catch (final IOException | RuntimeException ex)
        {
            loadFailures.increment();
            failedStamps.put(name, stamp);
            LOG.log(Level.WARNING, "cannot load entry " + name + ": " + ex.getMessage());
            return null;
        }
        finally
        {
            if (entry != null)
            {
                entry.wipeKey();
            }
        }
    }

    private static void retire(final Loaded l)
    {
        // operations in flight hold their own reference (LoadedKey refcount), so closing here is safe
        if (l.key() != null)
        {
            l.key().close();
        }
        if (l.ops() != null)
        {
            l.ops().close();
        }
    }

    @Override
    public void close()
    {
        final Snapshot s = snapshot;
        snapshot = new Snapshot(new Long2ObjectHashMap<>(), Map.of(), Map.of());
        s.byName().values().forEach(KeyRegistry::retire);
    }
}
