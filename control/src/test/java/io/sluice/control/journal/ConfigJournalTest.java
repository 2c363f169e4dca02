package io.sluice.control.journal;

import net.openhft.chronicle.core.time.SetTimeProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigJournalTest
{
    @TempDir
    Path dir;

    private static ConfigJournal.Entry entry(final long version)
    {
        return new ConfigJournal.Entry(version, 1_700_000_000_000L + version, "api", "PUT /v1/config", "change " + version,
            "{\"apiVersion\":\"sluice/v1\",\"loadBalancers\":[{\"name\":\"lb" + version + "\",\"vip\":\"198.18.0.1\"}]}");
    }

    @Test
    void shouldReplayEveryRecordAfterReopen()
    {
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            journal.append(entry(1));
            journal.append(entry(2));
        }
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            assertThat(journal.entries()).containsExactly(entry(1), entry(2));
            assertThat(journal.latest()).isEqualTo(entry(2));
        }
    }

    @Test
    void shouldSkipATornLastRecordWithAWarningAndKeepThePreviousConfig()
    {
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            journal.append(entry(1));
            journal.appendCorrupted(entry(2));
        }
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            assertThat(journal.latest()).isEqualTo(entry(1));
            assertThat(journal.skippedRecords()).isEqualTo(1);
        }
    }

    @Test
    void shouldCompactToTheRetainedCyclesAndStillRestoreTheLatest()
    {
        final SetTimeProvider clock = new SetTimeProvider(TimeUnit.DAYS.toNanos(20_000));
        try (ConfigJournal journal = ConfigJournal.open(dir, 2, clock))
        {
            for (int day = 1; day <= 5; day++)
            {
                journal.append(entry(day));
                clock.advanceMillis(TimeUnit.DAYS.toMillis(1));
            }
            assertThat(dir.toFile().listFiles((d, name) -> name.endsWith(".cq4"))).hasSize(2);
            assertThat(journal.latest()).isEqualTo(entry(5));
            assertThat(journal.entries()).containsExactly(entry(4), entry(5));
        }
    }

    @Test
    void shouldBeEmptyWhenNew()
    {
        try (ConfigJournal journal = ConfigJournal.open(dir.resolve("new")))
        {
            assertThat(journal.latest()).isNull();
            assertThat(new File(dir.toFile(), "new")).isDirectory();
        }
    }
}
