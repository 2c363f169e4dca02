package io.sluice.control.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads config from YAML or JSON and checks all of it: types, ranges, unknown keys, then the relations between
 * sections. Either every error comes back at once in a {@link ConfigException}, or a whole valid config.
 */
public final class ConfigLoader
{
    private static final YAMLMapper YAML = YAMLMapper.builder(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
        .build();
    private static final ObjectMapper JSON = JsonMapper.builder()
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .build();

    private ConfigLoader()
    {
    }

    public static SluiceConfig load(final Path file)
    {
        final String text;
        try
        {
            text = Files.readString(file);
        }
        catch (final IOException ex)
        {
            throw new ConfigException(file.toString(), List.of("cannot read: " + ex.getMessage()));
        }
        return parse(text, file.toString());
    }

    /** Parses YAML (JSON is accepted too: the first non-blank character decides). */
    public static SluiceConfig parse(final String text, final String source)
    {
        return validate(tree(text, source), source);
    }

    /** Checks a config tree (as the API receives it) and builds the records. */
    public static SluiceConfig validate(final JsonNode tree, final String source)
    {
        final Schema.Errors errors = new Schema.Errors();
        final SluiceConfig config = SluiceConfig.SPEC.read(tree, "", errors);
        if (config != null)
        {
            ConfigValidator.check(config, errors);
        }
        if (errors.count() > 0)
        {
            throw new ConfigException(source, errors.messages());
        }
        return config;
    }

    /** Parses text into a tree; a syntax error is a ConfigException naming line and column. */
    public static JsonNode tree(final String text, final String source)
    {
        final String trimmed = text.stripLeading();
        try
        {
            final JsonNode tree = trimmed.startsWith("{") ? JSON.readTree(text) : YAML.readTree(text);
            if (tree == null || tree.isMissingNode())
            {
                throw new ConfigException(source, List.of("(top level): the file is empty"));
            }
            return tree;
        }
        catch (final JsonProcessingException ex)
        {
            throw new ConfigException(source, List.of("(syntax) " + syntaxMessage(ex)));
        }
    }

    private static String syntaxMessage(final JsonProcessingException ex)
    {
        // SnakeYAML's message repeats the position with a source snippet; keep the sentences, drop the snippet lines.
        final String sentences = ex.getOriginalMessage().lines()
            .filter(line -> !line.isBlank() && !line.startsWith(" "))
            .collect(java.util.stream.Collectors.joining("; "));
        final var location = ex.getLocation();
        return location != null && location.getLineNr() > 0
            ? "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": " + sentences
            : sentences;
    }

    /** The mapper that writes records back out as YAML ({@code sluice get -o yaml}). */
    public static ObjectMapper yamlWriter()
    {
        return YAML;
    }

    /** The mapper that writes records as JSON (the API, {@code -o json}). */
    public static ObjectMapper jsonWriter()
    {
        return JSON;
    }
}
