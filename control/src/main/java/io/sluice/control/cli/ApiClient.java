package io.sluice.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.control.api.ApiToken;
import io.sluice.control.config.ConfigLoader;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/** The options and HTTP calls every client command shares: {@code --api URL}, {@code --token-file F}. */
final class ApiClient
{
    static final int EXIT_OK = 0;
    static final int EXIT_INVALID = 1;
    static final int EXIT_CONFLICT = 3;
    static final int EXIT_NOT_FOUND = 4;
    static final int EXIT_UNREACHABLE = 5;

    /** Thrown for any answer the command cannot use; carries the exit code. */
    static final class Failure extends Exception
    {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        Failure(final int exitCode, final String message)
        {
            super(message);
            this.exitCode = exitCode;
        }
    }

    /**
     * An answer.
     *
     * @param status HTTP status.
     * @param body   the JSON body.
     */
    record Response(int status, JsonNode body)
    {
    }

    /** picocli mixin. */
    static final class Options
    {
        @Option(names = "--api", paramLabel = "URL", defaultValue = "${env:SLUICE_API:-http://127.0.0.1:9900}",
            description = "The node's API (default: $SLUICE_API or ${DEFAULT-VALUE}).")
        String api;

        @Option(names = "--token-file", paramLabel = "F", defaultValue = "${env:SLUICE_TOKEN_FILE:-/var/lib/sluice/api.token}",
            description = "The bearer token file (default: $SLUICE_TOKEN_FILE or ${DEFAULT-VALUE}).")
        Path tokenFile;
    }

    private final Options options;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(final Options options)
    {
        this.options = options;
    }

    Response call(final String method, final String path, final String body, final String ifMatch) throws Failure
    {
        final String token;
        try
        {
            token = ApiToken.read(options.tokenFile);
        }
        catch (final IOException ex)
        {
            throw new Failure(EXIT_UNREACHABLE, "cannot read the token file " + options.tokenFile + ": " + ex.getMessage()
                + " (give --token-file; a node writes it to <stateDir>/api.token)");
        }
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(options.api.replaceAll("/+$", "") + path))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + token)
            .header("User-Agent", "sluice-cli " + System.getProperty("user.name", ""))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null)
        {
            request.header("Content-Type", "application/json");
        }
        if (ifMatch != null)
        {
            request.header("If-Match", ifMatch);
        }
        final HttpResponse<String> response;
        try
        {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
        catch (final ConnectException ex)
        {
            throw new Failure(EXIT_UNREACHABLE, "no node API at " + options.api + " (is the node running? --api URL)");
        }
        catch (final IOException ex)
        {
            throw new Failure(EXIT_UNREACHABLE, "calling " + options.api + path + ": " + ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new Failure(EXIT_UNREACHABLE, "interrupted");
        }
        final JsonNode json = response.body().isEmpty() ? ConfigLoader.jsonWriter().createObjectNode()
            : ConfigLoader.tree(response.body(), "API response");
        if (response.statusCode() >= 400)
        {
            final StringBuilder message = new StringBuilder(json.path("error").asText("HTTP " + response.statusCode()));
            for (final JsonNode error : json.path("errors"))
            {
                message.append("\n  ").append(error.asText());
            }
            throw new Failure(switch (response.statusCode())
            {
                case 400, 413 -> EXIT_INVALID;
                case 404 -> EXIT_NOT_FOUND;
                case 409, 412 -> EXIT_CONFLICT;
                default -> EXIT_UNREACHABLE;
            }, message.toString());
        }
        return new Response(response.statusCode(), json);
    }

    static String segment(final String text)
    {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
