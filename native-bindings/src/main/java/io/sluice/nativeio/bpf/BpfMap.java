package io.sluice.nativeio.bpf;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF map owned by this process (its fd). Byte-array methods for the control path; per-CPU maps take and return
 * {@code valueSize × possibleCpus} bytes (each CPU's value rounded up to 8 bytes), as the kernel does.
 * Methods are synchronized: the node's control thread and the counters copier may share a map.
 */
public final class BpfMap implements AutoCloseable
{
    private final int fd;
    private final int type;
    private final int keySize;
    private final int valueSize;
    private final int maxEntries;
    private final String name;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment attr;
    private final MemorySegment key;
    private final MemorySegment nextKey;
    private final MemorySegment value;
    private final int valueBytes;

    private BpfMap(final int fd, final int type, final int keySize, final int valueSize, final int maxEntries, final String name)
    {
        this.fd = fd;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
        this.name = name;
        this.valueBytes = isPerCpu(type) ? ((valueSize + 7) & ~7) * Libc.possibleCpus() : valueSize;
        attr = arena.allocate(Bpf.ATTR_ELEM_SIZE, 8);
        key = arena.allocate(Math.max(keySize, 8), 8);
        nextKey = arena.allocate(Math.max(keySize, 8), 8);
        value = arena.allocate(Math.max(valueBytes, 8), 8);
    }

    /** Create a map. LPM tries get BPF_F_NO_PREALLOC, which the kernel requires of them. */
    public static BpfMap create(final int type, final int keySize, final int valueSize, final int maxEntries, final String name)
    {
        final int flags = type == Bpf.BPF_MAP_TYPE_LPM_TRIE ? Bpf.BPF_F_NO_PREALLOC : 0;
        final int fd = Bpf.mapCreate(type, keySize, valueSize, maxEntries, flags, name);
        return new BpfMap(fd, type, keySize, valueSize, maxEntries, name);
    }

    private static boolean isPerCpu(final int type)
    {
        return type == Bpf.BPF_MAP_TYPE_PERCPU_ARRAY || type == 5 || type == 10;
    }

    public int fd()
    {
        return fd;
    }

    public int type()
    {
        return type;
    }

    public int keySize()
    {
        return keySize;
    }

    public int valueSize()
    {
        return valueSize;
    }

    public int maxEntries()
    {
        return maxEntries;
    }

    /** @return bytes a lookup returns: valueSize, or the per-CPU total for per-CPU maps. */
    public int valueBytes()
    {
        return valueBytes;
    }

    /** Insert or replace ({@link Bpf#BPF_ANY}), insert only (NOEXIST) or replace only (EXIST). */
    public synchronized void update(final byte[] keyBytes, final byte[] valueBytesIn, final long flags)
    {
        checkLength("key", keyBytes.length, keySize);
        checkLength("value", valueBytesIn.length, valueBytes);
        MemorySegment.copy(keyBytes, 0, key, JAVA_BYTE, 0, keySize);
        MemorySegment.copy(valueBytesIn, 0, value, JAVA_BYTE, 0, valueBytes);
        NativeException.check(Bpf.elem(attr, Bpf.BPF_MAP_UPDATE_ELEM, fd, key, value, flags),
            "bpf(BPF_MAP_UPDATE_ELEM " + name + ")", "E2BIG: the map is full; EEXIST/ENOENT: flags " + flags);
    }

    /** Update an int-keyed map (arrays, XSKMAP) with an int value. */
    public synchronized void updateInt(final int index, final int intValue)
    {
        key.set(JAVA_INT, 0, index);
        value.set(JAVA_INT, 0, intValue);
        NativeException.check(Bpf.elem(attr, Bpf.BPF_MAP_UPDATE_ELEM, fd, key, value, Bpf.BPF_ANY),
            "bpf(BPF_MAP_UPDATE_ELEM " + name + "[" + index + "])", "index must be < max_entries " + maxEntries);
    }

    /** @return the value, or null when there is no such key. */
    public synchronized byte[] lookup(final byte[] keyBytes)
    {
        checkLength("key", keyBytes.length, keySize);
        MemorySegment.copy(keyBytes, 0, key, JAVA_BYTE, 0, keySize);
        final int rc = Bpf.elem(attr, Bpf.BPF_MAP_LOOKUP_ELEM, fd, key, value, 0);
        if (rc == -Errno.ENOENT)
        {
            return null;
        }
        NativeException.check(rc, "bpf(BPF_MAP_LOOKUP_ELEM " + name + ")", null);
        return value.asSlice(0, valueBytes).toArray(JAVA_BYTE);
    }

    /** @return for a per-CPU array of u64 counters: the sum over CPUs of entry {@code index}. */
    public synchronized long sumPerCpuLong(final int index)
    {
        key.set(JAVA_INT, 0, index);
        NativeException.check(Bpf.elem(attr, Bpf.BPF_MAP_LOOKUP_ELEM, fd, key, value, 0),
            "bpf(BPF_MAP_LOOKUP_ELEM " + name + "[" + index + "])", null);
        long sum = 0;
        for (int offset = 0; offset < valueBytes; offset += 8)
        {
            sum += value.get(JAVA_LONG, offset);
        }
        return sum;
    }

    /** @return true when deleted, false when absent. Arrays cannot delete (EINVAL). */
    public synchronized boolean delete(final byte[] keyBytes)
    {
        checkLength("key", keyBytes.length, keySize);
        MemorySegment.copy(keyBytes, 0, key, JAVA_BYTE, 0, keySize);
        final int rc = Bpf.elem(attr, Bpf.BPF_MAP_DELETE_ELEM, fd, key, MemorySegment.NULL, 0);
        if (rc == -Errno.ENOENT)
        {
            return false;
        }
        NativeException.check(rc, "bpf(BPF_MAP_DELETE_ELEM " + name + ")", null);
        return true;
    }

    /** Delete an int-keyed entry (XSKMAP slot). */
    public synchronized boolean deleteInt(final int index)
    {
        key.set(JAVA_INT, 0, index);
        final int rc = Bpf.elem(attr, Bpf.BPF_MAP_DELETE_ELEM, fd, key, MemorySegment.NULL, 0);
        return rc == 0;
    }

    /** @return every key (BPF_MAP_GET_NEXT_KEY from NULL); a snapshot, entries may change meanwhile. */
    public synchronized List<byte[]> keys()
    {
        final List<byte[]> keys = new ArrayList<>();
        MemorySegment current = MemorySegment.NULL;
        while (true)
        {
            final int rc = Bpf.elem(attr, Bpf.BPF_MAP_GET_NEXT_KEY, fd, current, nextKey, 0);
            if (rc == -Errno.ENOENT)
            {
                return keys;
            }
            NativeException.check(rc, "bpf(BPF_MAP_GET_NEXT_KEY " + name + ")", null);
            keys.add(nextKey.asSlice(0, keySize).toArray(JAVA_BYTE));
            MemorySegment.copy(nextKey, 0, key, 0, keySize);
            current = key;
        }
    }

    private static void checkLength(final String what, final int actual, final int expected)
    {
        if (actual != expected)
        {
            throw new IllegalArgumentException(what + " length " + actual + " != " + expected);
        }
    }

    @Override
    public void close()
    {
        Libc.close(fd);
        arena.close();
    }
}
