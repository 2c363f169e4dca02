package io.sluice.perf.harness;

import io.sluice.testbed.Testbed;

import java.nio.file.Path;

/** What subjects and workloads share during a benchmark: the testbed, settings, a scratch dir, TLS material. */
public record BenchContext(Testbed testbed, Settings settings, Path workDir, Certificates certificates)
{
    /** The command prefix that pins a process to the subject CPU ("taskset -c N"), empty when unpinned. */
    public java.util.List<String> subjectPinning()
    {
        return settings.subjectCpu() < 0 ? java.util.List.of()
            : java.util.List.of("taskset", "-c", Integer.toString(settings.subjectCpu()));
    }
}
