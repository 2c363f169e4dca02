package io.sluice.keyserver.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Owner-only files and directories, written atomically (temp file in the same directory, fsync, rename). */
public final class SecureFiles
{
    public static final FileAttribute<Set<PosixFilePermission>> DIR_0700 =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    public static final FileAttribute<Set<PosixFilePermission>> FILE_0600 =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private SecureFiles()
    {
    }

    /**
     * Create the directory (and parents) if needed and force it to 0700.
     *
     * @param dir the directory.
     * @throws IOException when it cannot be created.
     */
    public static void ensurePrivateDirectory(final Path dir) throws IOException
    {
        if (!Files.isDirectory(dir))
        {
            Files.createDirectories(dir, DIR_0700);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    /**
     * Replace {@code target} with {@code content} so that readers see the old or the new file, never a partial one.
     *
     * @param target the file.
     * @param content the bytes.
     * @throws IOException when the write fails (the target is left as it was).
     */
    public static void writeAtomically(final Path target, final byte[] content) throws IOException
    {
        final Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), FILE_0600))
        {
            final ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining())
            {
                ch.write(buf);
            }
            ch.force(true);
        }
        try
        {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        finally
        {
            Files.deleteIfExists(tmp);
        }
        try (FileChannel dir = FileChannel.open(target.toAbsolutePath().getParent(), StandardOpenOption.READ))
        {
            // fsync the directory so the rename itself survives a crash
            dir.force(true);
        }
    }
}
