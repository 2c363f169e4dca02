package io.sluice.keyserver.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyDirectoryTest
{
    @TempDir
    Path tmp;

    private StoredEntry entry(final String name)
    {
        return new StoredEntry(StoredEntry.Kind.CERTIFICATE, name, 1, List.of(new byte[] {1, 2, 3}), "secret key".getBytes());
    }

    @Test
    void shouldRoundTripAnEntryAndDetectChanges() throws IOException
    {
        final Path dir = tmp.resolve("keys");
        final KeyDirectory d = new KeyDirectory(dir, MasterKey.loadOrCreate(tmp.resolve("mk"), dir));
        d.store(entry("a"));
        final long stamp = d.listStamps().get("a");
        final StoredEntry back = d.load("a");
        assertThat(back.name()).isEqualTo("a");
        assertThat(new String(back.keyPem())).isEqualTo("secret key");
        d.store(entry("a"));
        assertThat(d.listStamps().get("a")).isNotEqualTo(stamp);
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()).toList()).containsExactly("a.entry");
    }

    @Test
    void shouldRefuseAnotherMasterKeyAndRenamedFiles() throws IOException
    {
        final Path dir = tmp.resolve("keys");
        final KeyDirectory d = new KeyDirectory(dir, MasterKey.loadOrCreate(tmp.resolve("mk"), dir));
        d.store(entry("a"));
        final KeyDirectory other = new KeyDirectory(dir, MasterKey.loadOrCreate(tmp.resolve("mk2"), dir));
        assertThatThrownBy(() -> other.load("a")).hasMessageContaining("does not unseal: wrong master key or the file was altered");
        Files.copy(dir.resolve("a.entry"), dir.resolve("b.entry"), StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> d.load("b")).hasMessageContaining("does not unseal");
    }

    @Test
    void shouldRefuseAMasterKeyInsideTheKeyDirectoryOrReadableByOthers() throws IOException
    {
        final Path dir = tmp.resolve("keys");
        assertThatThrownBy(() -> MasterKey.loadOrCreate(dir.resolve("mk"), dir)).hasMessageContaining("must live outside");
        final Path mk = tmp.resolve("mk");
        MasterKey.loadOrCreate(mk, dir);
        Files.setPosixFilePermissions(mk, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> MasterKey.load(mk, dir)).hasMessageContaining("accessible by group or others");
    }

    @Test
    void shouldRejectNamesThatAreNotFileNames()
    {
        final Path dir = tmp.resolve("keys");
        assertThatThrownBy(() -> new KeyDirectory(dir, MasterKey.loadOrCreate(tmp.resolve("mk"), dir)).store(entry("../x")))
            .hasMessageContaining("must match");
    }
}
