package io.sluice.control.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The rule for files that hold a secret (the API token, the cluster key): only their owner may read them. A secret
 * another local user can read authenticates that user too, so such a file is refused at start rather than used.
 */
public final class SecretFile
{
    private SecretFile()
    {
    }

    /**
     * Throws unless {@code file} is unreadable by group and others (e.g. 0600).
     *
     * @param what what the file holds, first in the error ("API token file", "cluster.keyFile").
     */
    public static void requireOwnerOnly(final String what, final Path file) throws IOException
    {
        final Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        if (permissions.contains(PosixFilePermission.GROUP_READ) || permissions.contains(PosixFilePermission.OTHERS_READ))
        {
            throw new IOException(what + " " + file + " is readable by group or others ("
                + PosixFilePermissions.toString(permissions) + "): chmod 600 it");
        }
    }
}
