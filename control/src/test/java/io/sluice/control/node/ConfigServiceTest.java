package io.sluice.control.node;

import io.sluice.control.config.ConfigException;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.journal.ConfigJournal;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigServiceTest
{
    private static final String START = """
        apiVersion: sluice/v1
        loadBalancers:
          - {name: web, vip: 198.18.0.100, listeners: [{protocol: tcp, port: 80, serverGroup: app}],
             serverGroups: [{name: app, servers: [{address: 198.18.10.2, port: 8080}]}]}
        """;

    @TempDir
    Path dir;

    private final AtomicCounter version = new CountersManager(new UnsafeBuffer(new byte[1 << 16]), new UnsafeBuffer(new byte[1 << 14]))
        .newCounter("node.config_version", 601);

    /** Records what it was asked to apply; fails when told to. */
    private static final class RecordingTarget implements ConfigTarget
    {
        final List<String> applied = new ArrayList<>();
        boolean fail;

        @Override
        public String name()
        {
            return "recorder";
        }

        @Override
        public void apply(final SluiceConfig previous, final SluiceConfig next) throws Exception
        {
            if (fail)
            {
                throw new IllegalStateException("port 80 is taken");
            }
            applied.add(previous.loadBalancers().size() + "->" + next.loadBalancers().size());
        }
    }

    private ConfigService service(final ConfigJournal journal)
    {
        final ConfigService service = new ConfigService(ConfigLoader.parse(START, "start"), journal, version);
        service.restore(false);
        return service;
    }

    private static com.fasterxml.jackson.databind.JsonNode lbs(final String yaml)
    {
        return ConfigLoader.tree(yaml, "test");
    }

    @Test
    void shouldRollBackEveryTargetWhenOneFails()
    {
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            final ConfigService service = service(journal);
            final RecordingTarget first = new RecordingTarget();
            final RecordingTarget failing = new RecordingTarget();
            failing.fail = true;
            service.addTarget(first);
            service.addTarget(failing);

            assertThatThrownBy(() -> service.apply(lbs("[]"), -1, "t", "test"))
                .isInstanceOf(ConfigService.ApplyFailedException.class)
                .hasMessageContaining("recorder: port 80 is taken (nothing applied)");

            assertThat(first.applied).containsExactly("1->0", "0->1");
            assertThat(service.version()).isEqualTo(1);
            assertThat(service.current().loadBalancers()).hasSize(1);
            assertThat(journal.entries()).hasSize(1);
        }
    }

    @Test
    void shouldApplyJournalAndBumpTheVersion()
    {
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            final ConfigService service = service(journal);
            final RecordingTarget target = new RecordingTarget();
            service.addTarget(target);

            final ConfigService.Applied applied = service.apply(lbs("[]"), 1, "alice", "PUT /v1/config");

            assertThat(applied.version()).isEqualTo(2);
            assertThat(applied.changes()).extracting(Object::toString).containsExactly("- loadbalancer web");
            assertThat(version.get()).isEqualTo(2);
            assertThat(journal.latest().user()).isEqualTo("alice");
            assertThat(journal.latest().summary()).isEqualTo("- loadbalancer web");
        }
    }

    @Test
    void shouldRefuseAStaleVersionAndAnInvalidChangeWithoutApplying()
    {
        final ConfigService service = service(null);
        final RecordingTarget target = new RecordingTarget();
        service.addTarget(target);

        assertThatThrownBy(() -> service.apply(lbs("[]"), 7, "t", "test"))
            .isInstanceOf(ConfigService.VersionConflictException.class).hasMessage("config version is 1, the change was based on 7");
        assertThatThrownBy(() -> service.apply(lbs("[{name: web, vip: 198.18.0.100, listeners: [{protocol: tcp, port: 70000, "
            + "serverGroup: nope}]}]"), -1, "t", "test"))
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining("loadBalancers[0].listeners[0].port: 70000 is not in 1..65535");
        assertThat(target.applied).isEmpty();
        assertThat(service.version()).isEqualTo(1);
    }

    @Test
    void shouldKeepTheVersionWhenNothingChanges()
    {
        final ConfigService service = service(null);
        assertThat(service.apply(service.loadBalancersTree(), -1, "t", "test").version()).isEqualTo(1);
    }

    @Test
    void shouldRestoreFromTheJournalAndLetTheFileWinOnlyWhenAsked()
    {
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            service(journal).apply(lbs("[]"), -1, "api", "delete all");
        }
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            final ConfigService restored = service(journal);
            assertThat(restored.version()).isEqualTo(2);
            assertThat(restored.current().loadBalancers()).isEmpty();
        }
        try (ConfigJournal journal = ConfigJournal.open(dir))
        {
            final ConfigService fileWins = new ConfigService(ConfigLoader.parse(START, "start"), journal, version);
            fileWins.restore(true);
            assertThat(fileWins.version()).isEqualTo(3);
            assertThat(fileWins.current().loadBalancers()).hasSize(1);
            assertThat(journal.latest().action()).isEqualTo("--config-wins");
        }
    }
}
