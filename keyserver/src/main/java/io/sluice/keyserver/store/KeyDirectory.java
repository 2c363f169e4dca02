package io.sluice.keyserver.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The key server's directory: one sealed file per entry ({@code NAME.entry}) plus {@code ticket.secret}, each
 * AES-256-GCM under the {@link MasterKey} with the file name as associated data (so renaming or swapping files is
 * detected). Files are 0600 in a 0700 directory and replaced atomically, so a running key server that rescans sees
 * either the old or the new entry.
 *
 * <pre>
 *  sealed file: "SLKE" | version u32 (big endian) | nonce (12) | ciphertext | GCM tag (16)
 * </pre>
 */
public final class KeyDirectory
{
    public static final String ENTRY_SUFFIX = ".entry";
    public static final String TICKET_SECRET_FILE = "ticket.secret";
    private static final byte[] MAGIC = "SLKE".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int NONCE_LENGTH = 12;
    private static final int HEADER_LENGTH = MAGIC.length + 4 + NONCE_LENGTH;

    private final Path dir;
    private final MasterKey masterKey;
    private final SecureRandom random = new SecureRandom();

    public KeyDirectory(final Path dir, final MasterKey masterKey)
    {
        this.dir = dir;
        this.masterKey = masterKey;
    }

    public Path dir()
    {
        return dir;
    }

    /**
     * Seal and store an entry, replacing one of the same name.
     *
     * @param entry the entry.
     * @throws IOException when writing fails.
     */
    public void store(final StoredEntry entry) throws IOException
    {
        if (!StoredEntry.NAME.matcher(entry.name()).matches())
        {
            throw new IOException("name '" + entry.name() + "' must match " + StoredEntry.NAME.pattern());
        }
        SecureFiles.ensurePrivateDirectory(dir);
        final String file = entry.name() + ENTRY_SUFFIX;
        final byte[] plain = entry.serialise();
        try
        {
            SecureFiles.writeAtomically(dir.resolve(file), seal(file, plain));
        }
        finally
        {
            Arrays.fill(plain, (byte)0);
        }
    }

    /**
     * @param secret the ticket secret (≥ 32 bytes), the same on every machine whose sessions should resume anywhere.
     * @throws IOException when writing fails.
     */
    public void storeTicketSecret(final byte[] secret) throws IOException
    {
        if (secret.length < 32)
        {
            throw new IOException("ticket secret has " + secret.length + " bytes, need at least 32");
        }
        SecureFiles.ensurePrivateDirectory(dir);
        SecureFiles.writeAtomically(dir.resolve(TICKET_SECRET_FILE), seal(TICKET_SECRET_FILE, secret));
    }

    /**
     * @return the ticket secret, or null when none was stored.
     * @throws IOException when the file exists but cannot be opened.
     */
    public byte[] loadTicketSecret() throws IOException
    {
        try
        {
            return open(TICKET_SECRET_FILE, Files.readAllBytes(dir.resolve(TICKET_SECRET_FILE)));
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
    }

    /**
     * @param name the entry name.
     * @return the entry, unsealed.
     * @throws IOException when the entry is missing or does not unseal (wrong master key, tampering).
     */
    public StoredEntry load(final String name) throws IOException
    {
        final String file = name + ENTRY_SUFFIX;
        final byte[] plain = open(file, Files.readAllBytes(dir.resolve(file)));
        try
        {
            final StoredEntry entry = StoredEntry.deserialise(plain);
            if (!entry.name().equals(name))
            {
                throw new IOException(file + " holds entry '" + entry.name() + "'");
            }
            return entry;
        }
        finally
        {
            Arrays.fill(plain, (byte)0);
        }
    }

    /**
     * @return entry name → file modification stamp (millis and size folded), for change detection by rescans.
     * @throws IOException when the directory cannot be listed.
     */
    public Map<String, Long> listStamps() throws IOException
    {
        final Map<String, Long> stamps = new TreeMap<>();
        if (!Files.isDirectory(dir))
        {
            return stamps;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + ENTRY_SUFFIX))
        {
            for (final Path p : files)
            {
                final String fileName = p.getFileName().toString();
                final String name = fileName.substring(0, fileName.length() - ENTRY_SUFFIX.length());
                try
                {
                    // The content decides, not timestamps or inodes: a re-import within one clock tick may reuse the
                    // freed inode and keep size and mtime, yet its sealed bytes (fresh nonce) always differ.
                    final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                    crc.update(Files.readAllBytes(p));
                    stamps.put(name, crc.getValue() << 20 ^ Files.size(p));
                }
                catch (final NoSuchFileException ignored)
                {
                    // replaced or removed between listing and reading; the next scan sees the result
                }
            }
        }
        return stamps;
    }

    private byte[] seal(final String fileName, final byte[] plain) throws IOException
    {
        try
        {
            final byte[] nonce = new byte[NONCE_LENGTH];
            random.nextBytes(nonce);
            final Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, masterKey.secretKey(), new GCMParameterSpec(128, nonce));
            c.updateAAD(fileName.getBytes(StandardCharsets.UTF_8));
            final byte[] sealed = c.doFinal(plain);
            final ByteBuffer out = ByteBuffer.allocate(HEADER_LENGTH + sealed.length);
            out.put(MAGIC).putInt(VERSION).put(nonce).put(sealed);
            return out.array();
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException("sealing " + fileName + " failed", ex);
        }
    }

    private byte[] open(final String fileName, final byte[] sealed) throws IOException
    {
        if (sealed.length < HEADER_LENGTH + 16 || !Arrays.equals(sealed, 0, MAGIC.length, MAGIC, 0, MAGIC.length))
        {
            throw new IOException(fileName + " is not a sealed key-server file");
        }
        final int version = ByteBuffer.wrap(sealed, MAGIC.length, 4).getInt();
        if (version != VERSION)
        {
            throw new IOException(fileName + " has format version " + version + ", this key server reads " + VERSION);
        }
        try
        {
            final Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, masterKey.secretKey(), new GCMParameterSpec(128, sealed, MAGIC.length + 4, NONCE_LENGTH));
            c.updateAAD(fileName.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(sealed, HEADER_LENGTH, sealed.length - HEADER_LENGTH);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException(fileName + " does not unseal: wrong master key or the file was altered");
        }
    }
}
