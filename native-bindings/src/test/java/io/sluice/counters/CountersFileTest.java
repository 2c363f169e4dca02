package io.sluice.counters;

import org.agrona.concurrent.status.AtomicCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CountersFileTest
{
    @TempDir
    Path dir;

    @Test
    void shouldShowWriterCountersToASeparateReadOnlyMapping()
    {
        final Path path = dir.resolve(CountersFile.FILE_NAME);
        try (CountersFile writer = CountersFile.create(path, 128, "lb1"))
        {
            final AtomicCounter rx = writer.manager().newCounter("fastpath.rx_packets", 200);
            final AtomicCounter drops = writer.manager().newCounter("fastpath.drop.malformed", 201);
            rx.setRelease(42);
            drops.increment();

            try (CountersFile reader = CountersFile.openForReading(path))
            {
                assertThat(reader.nodeName()).isEqualTo("lb1");
                assertThat(reader.ownerPid()).isEqualTo(ProcessHandle.current().pid());
                final CounterSnapshot snapshot = CounterSnapshot.take(reader.reader());
                assertThat(snapshot.value("fastpath.rx_packets")).isEqualTo(42);
                assertThat(snapshot.value("fastpath.drop.malformed")).isEqualTo(1);

                rx.increment();
                assertThat(CounterSnapshot.take(reader.reader()).value("fastpath.rx_packets")).isEqualTo(43);
                writer.heartbeat(12345L);
                assertThat(reader.heartbeatMs()).isEqualTo(12345L);
            }
        }
    }

    @Test
    void shouldNameRepeatedLabelsUniquely()
    {
        try (CountersFile file = CountersFile.create(dir.resolve("c"), 64, "n"))
        {
            file.manager().newCounter("listener.rx", 210);
            final int second = file.manager().newCounter("listener.rx", 210).id();
            assertThat(CounterSnapshot.take(file.reader()).counters())
                .extracting(CounterSnapshot.Entry::name)
                .containsExactly("listener.rx", "listener.rx#" + second);
        }
    }

    @Test
    void shouldRefuseFileOfAnotherVersion() throws IOException
    {
        final Path path = dir.resolve("counters");
        CountersFile.create(path, 64, "n").close();
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.seek(CountersFileDescriptor.VERSION_OFFSET);
            raf.write(new byte[] {9, 0, 0, 0});
        }
        assertThatThrownBy(() -> CountersFile.openForReading(path))
            .hasMessageContaining("counters file version 9, this build reads version 1");
    }

    @Test
    void shouldRefuseTruncatedAndForeignFiles() throws IOException
    {
        final Path path = dir.resolve("counters");
        CountersFile.create(path, 64, "n").close();
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"))
        {
            raf.setLength(4096);
        }
        assertThatThrownBy(() -> CountersFile.openForReading(path)).hasMessageContaining("the header promises");

        final Path foreign = dir.resolve("foreign");
        Files.write(foreign, new byte[256]);
        assertThatThrownBy(() -> CountersFile.openForReading(foreign)).hasMessageContaining("not a sluice counters file");
        assertThatThrownBy(() -> CountersFile.openForReading(dir.resolve("missing")))
            .hasMessageContaining("no counters file at");
    }

    @Test
    void shouldRejectOutOfRangeCapacity()
    {
        assertThatThrownBy(() -> CountersFile.create(dir.resolve("c"), 1, "n"))
            .hasMessageContaining("maxCounters 1 is not in 64..262144");
    }
}
