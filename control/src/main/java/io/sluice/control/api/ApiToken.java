package io.sluice.control.api;

import io.sluice.control.config.SecretFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/** The API's bearer token: read from tokenFile, or created there (0600, 256 random bits) on first start. */
public final class ApiToken
{
    private final byte[] token;

    private ApiToken(final byte[] token)
    {
        this.token = token;
    }

    public static ApiToken loadOrCreate(final Path file) throws IOException
    {
        if (!Files.exists(file))
        {
            final byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            if (file.getParent() != null && !Files.isDirectory(file.getParent()))
            {
                Files.createDirectories(file.getParent(), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            }
            // Created 0600 before a byte is written: no moment in which another user could open it.
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, HexFormat.of().formatHex(random) + "\n", StandardCharsets.US_ASCII,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        }
        SecretFile.requireOwnerOnly("API token file", file);
        final String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (text.length() < 16)
        {
            throw new IOException("API token in " + file + " is shorter than 16 characters");
        }
        return new ApiToken(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** Whether an Authorization header value carries this token; constant time in the token's length. */
    public boolean matches(final String authorization)
    {
        if (authorization == null || !authorization.startsWith("Bearer "))
        {
            return false;
        }
        final byte[] offered = authorization.substring("Bearer ".length()).strip().getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(token, offered);
    }

    /** Reads a token file for a client. */
    public static String read(final Path file) throws IOException
    {
        return Files.readString(file, StandardCharsets.US_ASCII).strip();
    }
}
