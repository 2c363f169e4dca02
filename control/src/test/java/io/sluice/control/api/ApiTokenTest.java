package io.sluice.control.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiTokenTest
{
    @Test
    void shouldCreateTheTokenFileReadableByItsOwnerOnlyAndAcceptItsToken(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("state").resolve("api.token");
        final ApiToken token = ApiToken.loadOrCreate(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(token.matches("Bearer " + ApiToken.read(file))).isTrue();
        assertThat(token.matches("Bearer " + "0".repeat(64))).isFalse();
        assertThat(ApiToken.loadOrCreate(file).matches("Bearer " + ApiToken.read(file))).isTrue();
    }

    @Test
    void shouldRefuseATokenFileReadableByGroupOrOthers(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("api.token");
        Files.writeString(file, "0123456789abcdef0123456789abcdef\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> ApiToken.loadOrCreate(file)).isInstanceOf(IOException.class)
            .hasMessage("API token file " + file + " is readable by group or others (rw-r--r--): chmod 600 it");
    }
}
