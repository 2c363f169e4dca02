package io.sluice.keyserver.ipc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a thread of this process sits in FUTEX_WAIT: announcing a sleep (the sleeper count) comes before the
 * syscall, so a test that needs the sleep itself, not the announcement, looks at the kernel's view of the thread.
 */
final class FutexProbe
{
    private FutexProbe()
    {
    }

    /** The thread with kernel id {@code tid} (0: not known yet) is asleep (state S) in a futex wait. */
    static boolean asleepOnFutex(final int tid) throws IOException
    {
        if (tid == 0)
        {
            return false;
        }
        final Path task = Path.of("/proc/self/task/" + tid);
        final String stat = Files.readString(task.resolve("stat"));
        final char state = stat.charAt(stat.lastIndexOf(')') + 2);
        return state == 'S' && Files.readString(task.resolve("wchan")).startsWith("futex");
    }
}
