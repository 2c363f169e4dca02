package io.sluice.testbed;

/** Run prefixes for tests: "tb" + the test JVM's pid in hex + a tag, so parallel runs never collide. */
final class TestPrefixes
{
    private TestPrefixes()
    {
    }

    static String of(final char tag)
    {
        return "tb" + Long.toHexString(ProcessHandle.current().pid()) + tag;
    }
}
