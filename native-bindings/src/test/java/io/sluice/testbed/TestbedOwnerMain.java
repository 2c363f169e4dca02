package io.sluice.testbed;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child JVM for the sweep test: builds a testbed with {@code args[0]} as prefix, starts a long
 * sleeper inside be1, writes {@code args[1]} when ready, then waits to be killed.
 */
public final class TestbedOwnerMain
{
    private TestbedOwnerMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Testbed testbed = Testbed.builder().prefix(args[0]).backends(1).servers(false).build();
        testbed.spawn("be1", "sleep", "600");
        Files.writeString(Path.of(args[1]), testbed.prefix());
        // wait to be killed (the test SIGKILLs this JVM)
        Thread.currentThread().join();
    }
}
