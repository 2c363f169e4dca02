package io.sluice.perf.harness;

import io.sluice.testbed.Commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The machine the figures came from: cores, CPU model, kernel, JDK, perf profile, memory, the load
 * average when the run started (other work on a shared 2-core machine moves every figure), tool versions.
 */
public record MachineFacts(int cores, String cpuModel, String kernel, String jdk, String profile, long memoryMiB,
                           String loadAverageAtStart, Map<String, String> tools)
{
    public static MachineFacts collect(final String profile)
    {
        final Map<String, String> tools = new LinkedHashMap<>();
        tools.put("nginx", firstLine(Commands.run("nginx", "-v").output()));
        tools.put("haproxy", firstLine(Commands.run("haproxy", "-v").output()));
        tools.put("nft", firstLine(Commands.run("nft", "--version").output()));
        tools.put("wrk", firstLine(Commands.run("wrk", "-v").output()));
        tools.put("h2load", firstLine(Commands.run("h2load", "--version").output()));
        tools.put("openssl", firstLine(Commands.run("openssl", "version").output()));
        return new MachineFacts(Runtime.getRuntime().availableProcessors(), readCpuModel(), read("/proc/sys/kernel/osrelease"),
            System.getProperty("java.vm.vendor") + " " + Runtime.version(), profile, readMemoryMiB(), loadAverage(), tools);
    }

    private static String readCpuModel()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
            {
                if (line.startsWith("model name"))
                {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        }
        catch (final IOException ignored)
        {
            // unknown model
        }
        return "unknown";
    }

    private static long readMemoryMiB()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/meminfo")))
            {
                if (line.startsWith("MemTotal:"))
                {
                    return Long.parseLong(line.replaceAll("\\D+", "")) / 1024;
                }
            }
        }
        catch (final IOException | RuntimeException ignored)
        {
            // unknown size
        }
        return 0;
    }

    private static String loadAverage()
    {
        final String[] fields = read("/proc/loadavg").split(" ");
        return fields.length >= 3 ? fields[0] + " " + fields[1] + " " + fields[2] : "unknown";
    }

    private static String read(final String file)
    {
        try
        {
            return Files.readString(Path.of(file)).strip();
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }

    private static String firstLine(final String text)
    {
        final String stripped = text.strip();
        final int nl = stripped.indexOf('\n');
        return nl < 0 ? stripped : stripped.substring(0, nl);
    }
}
