package io.sluice.perf.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads and writes {@link BenchReport} as pretty JSON. */
public final class ReportJson
{
    private static final ObjectMapper MAPPER = new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ReportJson()
    {
    }

    public static String write(final BenchReport report) throws IOException
    {
        return MAPPER.writeValueAsString(report) + "\n";
    }

    public static void write(final BenchReport report, final Path file) throws IOException
    {
        if (file.getParent() != null)
        {
            Files.createDirectories(file.getParent());
        }
        Files.writeString(file, write(report));
    }

    public static BenchReport read(final Path file) throws IOException
    {
        final BenchReport report = MAPPER.readValue(file.toFile(), BenchReport.class);
        if (!BenchReport.SCHEMA.equals(report.schema()))
        {
            throw new IOException(file + ": schema " + report.schema() + " is not " + BenchReport.SCHEMA);
        }
        return report;
    }
}
