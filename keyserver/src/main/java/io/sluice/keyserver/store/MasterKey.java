package io.sluice.keyserver.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES-256 key that seals every entry of a key directory. It lives in a file outside that directory (so a copy of
 * the directory alone, a backup say, reveals nothing), holding 32 raw bytes or their base64, mode 0600.
 */
public final class MasterKey
{
    public static final Path DEFAULT_PATH = Path.of("/etc/sluice/keyserver-master.key");
    public static final int LENGTH_BYTES = 32;

    private final SecretKey key;

    private MasterKey(final byte[] raw)
    {
        this.key = new SecretKeySpec(raw, "AES");
    }

    SecretKey secretKey()
    {
        return key;
    }

    /**
     * Read the master key, refusing a file inside the key directory or readable by group or others.
     *
     * @param file the master key file.
     * @param keyDir the key directory it must lie outside.
     * @return the key.
     * @throws IOException with the reason when the file is missing, misplaced, too open or malformed.
     */
    public static MasterKey load(final Path file, final Path keyDir) throws IOException
    {
        checkOutside(file, keyDir);
        if (!Files.exists(file))
        {
            throw new IOException("master key file " + file + " does not exist (import creates one; copy it to every machine)");
        }
        final Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
        if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")))
        {
            throw new IOException("master key file " + file + " is accessible by group or others; chmod 600 it");
        }
        final byte[] content = Files.readAllBytes(file);
        try
        {
            if (content.length == LENGTH_BYTES)
            {
                return new MasterKey(content);
            }
            final byte[] decoded = Base64.getDecoder().decode(new String(content, StandardCharsets.US_ASCII).trim());
            if (decoded.length != LENGTH_BYTES)
            {
                throw new IOException("master key file " + file + " holds " + decoded.length + " bytes, need " + LENGTH_BYTES);
            }
            return new MasterKey(decoded);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IOException("master key file " + file + " is neither 32 raw bytes nor base64 of 32 bytes");
        }
        finally
        {
            Arrays.fill(content, (byte)0);
        }
    }

    /**
     * Load the master key, creating a fresh random one (0600, parent 0700) when the file does not exist yet.
     *
     * @param file the master key file.
     * @param keyDir the key directory it must lie outside.
     * @return the key.
     * @throws IOException when the file cannot be read or written.
     */
    public static MasterKey loadOrCreate(final Path file, final Path keyDir) throws IOException
    {
        checkOutside(file, keyDir);
        if (!Files.exists(file))
        {
            final byte[] raw = new byte[LENGTH_BYTES];
            new SecureRandom().nextBytes(raw);
            final Path parent = file.toAbsolutePath().getParent();
            if (!Files.exists(parent))
            {
                Files.createDirectories(parent, SecureFiles.DIR_0700);
            }
            SecureFiles.writeAtomically(file, Base64.getEncoder().encode(raw));
        }
        return load(file, keyDir);
    }

    private static void checkOutside(final Path file, final Path keyDir) throws IOException
    {
        final Path f = file.toAbsolutePath().normalize();
        final Path d = keyDir.toAbsolutePath().normalize();
        if (f.startsWith(d))
        {
            throw new IOException("master key file " + file + " must live outside the key directory " + keyDir);
        }
    }
}
