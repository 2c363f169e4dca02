package io.sluice.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** {@code sluice usage}: outbound bytes and packets per load balancer per minute, for billing. */
@Command(name = "usage", mixinStandardHelpOptions = true,
    description = "Outbound (billed) and inbound bytes and packets per load balancer per minute, from the node's usage journal. "
        + "T: an instant (2026-11-26T05:00:00Z), a date (2026-11-26, UTC), epoch milliseconds, or an age (90m, 24h, 7d).")
final class UsageCommand extends ClientCommands.ClientCommand
{
    @Option(names = "--since", required = true, paramLabel = "T", description = "Start (inclusive).")
    String since;

    @Option(names = "--until", paramLabel = "T", description = "End (exclusive); default now.")
    String until;

    @Option(names = {"-o", "--output"}, defaultValue = "csv", paramLabel = "FORMAT", description = "csv | json")
    String output;

    @Override
    int run(final ApiClient client) throws ApiClient.Failure
    {
        final long from = parse(since, "--since");
        final long to = until == null ? System.currentTimeMillis() : parse(until, "--until");
        final JsonNode records = client.call("GET", "/v1/usage?since=" + from + "&until=" + to, null, null).body();
        if ("json".equals(output))
        {
            System.out.println(records.toPrettyString());
            return ApiClient.EXIT_OK;
        }
        if (!"csv".equals(output))
        {
            throw new ApiClient.Failure(ApiClient.EXIT_INVALID, "-o " + output + " is not one of csv | json");
        }
        System.out.println("loadBalancer,minute,bytesOut,packetsOut,bytesIn,packetsIn,requests");
        for (final JsonNode r : records)
        {
            System.out.println(String.join(",", r.path("loadBalancer").asText(), r.path("minute").asText(),
                r.path("bytesOut").asText(), r.path("packetsOut").asText(), r.path("bytesIn").asText(), r.path("packetsIn").asText(),
                r.path("requests").asText("0")));
        }
        return ApiClient.EXIT_OK;
    }

    static long parse(final String text, final String option) throws ApiClient.Failure
    {
        final String t = text.strip().toLowerCase(Locale.ROOT);
        try
        {
            if (t.matches("\\d+[smhd]"))
            {
                final long amount = Long.parseLong(t.substring(0, t.length() - 1));
                final Duration age = switch (t.charAt(t.length() - 1))
                {
                    case 's' -> Duration.ofSeconds(amount);
                    case 'm' -> Duration.ofMinutes(amount);
                    case 'h' -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
                return System.currentTimeMillis() - age.toMillis();
            }
            if (t.matches("\\d{10,}"))
            {
                return Long.parseLong(t);
            }
            if (t.matches("\\d{4}-\\d{2}-\\d{2}"))
            {
                return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            }
            return Instant.parse(text.strip()).toEpochMilli();
        }
        catch (final DateTimeParseException | NumberFormatException ex)
        {
            throw new ApiClient.Failure(ApiClient.EXIT_INVALID, option + " \"" + text
                + "\" is not an instant (2026-11-26T05:00:00Z), a date, epoch milliseconds or an age (90m, 24h, 7d)");
        }
    }
}
