package io.sluice.control.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigReferenceTest
{
    @Test
    void shouldMatchTheCommittedReference() throws Exception
    {
        final String committed = Files.readString(Path.of("../docs/config.md"));
        assertThat(committed)
            .as("docs/config.md is out of date: regenerate it with ./sluice config-reference > docs/config.md")
            .isEqualTo(ConfigReference.render());
    }

    @Test
    void shouldDocumentEveryContractKey()
    {
        final String reference = ConfigReference.render();
        for (final String key : new String[] {"`synProxy`", "`persistenceTimeoutSeconds`", "`toa`", "`tlsPolicy`", "`mutualTls`",
            "`hashKey`", "`stickySession`", "`maxHeaderBytes`", "`proxyProtocol`", "`redirectTo`", "`backupFor`", "`etcd`",
            "`sessionCapacity`", "`keyserver`", "`expectedCodes`"})
        {
            assertThat(reference).contains("| " + key + " |");
        }
        assertThat(reference).contains("## `loadBalancers[].listeners[].healthCheck`");
    }
}
