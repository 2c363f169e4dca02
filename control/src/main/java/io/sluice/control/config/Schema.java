package io.sluice.control.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A small schema language for the config file: each key is declared once with its type, default, allowed range and
 * description, and that one declaration drives reading (with every error collected under its key path), the records
 * that come out, and the generated reference in docs/config.md.
 */
public final class Schema
{
    private Schema()
    {
    }

    /**
     * How to read one value.
     *
     * @param <T> the Java type read.
     */
    public interface Spec<T>
    {
        /** Reads {@code node} (never null or missing); on a bad value adds errors and returns null. */
        T read(JsonNode node, String path, Errors errors);

        /** The type as the reference shows it. */
        String typeName();

        /** The allowed values or range as the reference shows it, "" when any value of the type goes. */
        default String allowed()
        {
            return "";
        }
    }

    /**
     * One key of an object.
     *
     * @param key          the YAML/JSON key.
     * @param spec         how its value is read.
     * @param defaultValue used when the key is absent (null: no default).
     * @param required     whether the key must be present.
     * @param defaultText  the default as the reference shows it ("" for none).
     * @param doc          one sentence for the reference.
     * @param <T>          the value type.
     */
    public record Field<T>(String key, Spec<T> spec, T defaultValue, boolean required, String defaultText, String doc)
    {
        public static <T> Field<T> required(final String key, final Spec<T> spec, final String doc)
        {
            return new Field<>(key, spec, null, true, "", doc);
        }

        public static <T> Field<T> optional(final String key, final Spec<T> spec, final T defaultValue, final String doc)
        {
            return new Field<>(key, spec, defaultValue, false, defaultValue == null ? "" : show(defaultValue), doc);
        }

        /** An optional key whose default depends on other keys; {@code defaultText} says how. */
        public static <T> Field<T> derived(final String key, final Spec<T> spec, final String defaultText, final String doc)
        {
            return new Field<>(key, spec, null, false, defaultText, doc);
        }

        private static String show(final Object value)
        {
            if (value instanceof List<?> list)
            {
                return list.stream().map(Field::show).collect(Collectors.joining(", ", "[", "]"));
            }
            if (value instanceof WireEnum e)
            {
                return e.wireName();
            }
            return String.valueOf(value);
        }
    }

    /** Errors collected while reading; every one names a key path. */
    public static final class Errors
    {
        private final List<String> messages = new ArrayList<>();

        public void add(final String path, final String message)
        {
            messages.add((path.isEmpty() ? "(top level)" : path) + ": " + message);
        }

        public int count()
        {
            return messages.size();
        }

        public List<String> messages()
        {
            return List.copyOf(messages);
        }
    }

    /** The values read for an object's fields, handed to the record constructor. */
    public static final class Values
    {
        private final Map<String, Object> byKey = new LinkedHashMap<>();
        private final java.util.Set<String> given = new java.util.HashSet<>();
        private final String path;
        private final Errors errors;

        Values(final String path, final Errors errors)
        {
            this.path = path;
            this.errors = errors;
        }

        /** Records an error against one key of this object (relations between keys are checked by constructors). */
        public void reject(final Field<?> field, final String message)
        {
            errors.add(child(path, field.key()), message);
        }

        @SuppressWarnings("unchecked")
        public <T> T get(final Field<T> field)
        {
            return (T)byKey.get(field.key());
        }

        /** Whether the user wrote this key (as opposed to it taking its default). */
        public boolean present(final Field<?> field)
        {
            return given.contains(field.key());
        }

        public String path()
        {
            return path;
        }
    }

    /** An enum whose YAML spelling differs from its Java name. */
    public interface WireEnum
    {
        String wireName();
    }

    static String child(final String path, final String key)
    {
        return path.isEmpty() ? key : path + "." + key;
    }

    static String describe(final JsonNode node)
    {
        if (node.isTextual())
        {
            return "\"" + node.textValue() + "\"";
        }
        return node.toString();
    }

    static String kind(final JsonNode node)
    {
        return switch (node.getNodeType())
        {
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case BOOLEAN -> "a boolean";
            case NUMBER -> node.isIntegralNumber() ? "an integer" : "a number";
            case NULL, MISSING -> "nothing";
            default -> node.getNodeType().toString().toLowerCase();
        };
    }

    /**
     * An object with declared keys; unknown keys are errors.
     *
     * @param <R> the record built from it.
     */
    public static final class ObjectSpec<R> implements Spec<R>
    {
        private final String name;
        private final String doc;
        private final List<Field<?>> fields;
        private final Function<Values, R> constructor;

        public ObjectSpec(final String name, final String doc, final Function<Values, R> constructor, final Field<?>... fields)
        {
            this.name = name;
            this.doc = doc;
            this.fields = List.of(fields);
            this.constructor = constructor;
        }

        public String name()
        {
            return name;
        }

        public String doc()
        {
            return doc;
        }

        public List<Field<?>> fields()
        {
            return fields;
        }

        @Override
        public R read(final JsonNode node, final String path, final Errors errors)
        {
            if (!node.isObject())
            {
                errors.add(path, "expected an object, got " + kind(node));
                return null;
            }
            final int errorsBefore = errors.count();
            final Iterator<String> names = node.fieldNames();
            while (names.hasNext())
            {
                final String key = names.next();
                if (fields.stream().noneMatch(f -> f.key().equals(key)))
                {
                    errors.add(child(path, key), "unknown key (allowed: "
                        + fields.stream().map(Field::key).collect(Collectors.joining(", ")) + ")");
                }
            }
            final Values values = new Values(path, errors);
            for (final Field<?> field : fields)
            {
                final JsonNode value = node.get(field.key());
                final String at = child(path, field.key());
                if (value == null || value.isNull() || value.isMissingNode())
                {
                    if (field.required())
                    {
                        errors.add(at, "is required (" + field.spec().typeName() + ")");
                    }
                    values.byKey.put(field.key(), field.defaultValue());
                }
                else
                {
                    values.given.add(field.key());
                    final Object read = field.spec().read(value, at, errors);
                    values.byKey.put(field.key(), read == null ? field.defaultValue() : read);
                }
            }
            if (errors.count() > errorsBefore)
            {
                return null;
            }
            final R built = constructor.apply(values);
            return errors.count() > errorsBefore ? null : built;
        }

        /** Reads an object from nothing: every key takes its default. */
        public R defaults()
        {
            return read(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), "", new Errors());
        }

        @Override
        public String typeName()
        {
            return name;
        }
    }

    /**
     * A list of values of one spec.
     *
     * @param <T> the element type.
     */
    public record ListSpec<T>(Spec<T> element, int minSize, int maxSize) implements Spec<List<T>>
    {
        @Override
        public List<T> read(final JsonNode node, final String path, final Errors errors)
        {
            if (!node.isArray())
            {
                errors.add(path, "expected a list, got " + kind(node) + " " + describe(node));
                return null;
            }
            if (node.size() < minSize || node.size() > maxSize)
            {
                errors.add(path, "has " + node.size() + " entries, allowed " + minSize + ".." + maxSize);
                return null;
            }
            final int errorsBefore = errors.count();
            final List<T> out = new ArrayList<>(node.size());
            for (int i = 0; i < node.size(); i++)
            {
                final JsonNode item = node.get(i);
                if (item.isNull())
                {
                    errors.add(path + "[" + i + "]", "is empty");
                    continue;
                }
                out.add(element.read(item, path + "[" + i + "]", errors));
            }
            return errors.count() > errorsBefore ? null : List.copyOf(out);
        }

        @Override
        public String typeName()
        {
            return "list of " + element.typeName();
        }

        @Override
        public String allowed()
        {
            final String size = maxSize == Integer.MAX_VALUE ? (minSize > 0 ? "at least " + minSize + " entries" : "")
                : minSize + ".." + maxSize + " entries";
            final String inner = element.allowed();
            return inner.isEmpty() ? size : size.isEmpty() ? "each " + inner : size + "; each " + inner;
        }
    }

    /** An integer in a closed range, optionally also one sentinel value outside it (e.g. -1 = unlimited). */
    public record IntSpec(long min, long max, Long sentinel, String sentinelMeaning) implements Spec<Long>
    {
        public static IntSpec range(final long min, final long max)
        {
            return new IntSpec(min, max, null, null);
        }

        public static IntSpec rangeOr(final long min, final long max, final long sentinel, final String meaning)
        {
            return new IntSpec(min, max, sentinel, meaning);
        }

        @Override
        public Long read(final JsonNode node, final String path, final Errors errors)
        {
            if (!node.isIntegralNumber() || !node.canConvertToLong())
            {
                errors.add(path, "expected an integer, got " + kind(node) + " " + describe(node));
                return null;
            }
            final long value = node.longValue();
            if (sentinel != null && value == sentinel)
            {
                return value;
            }
            if (value < min || value > max)
            {
                errors.add(path, value + " is not in " + allowed());
                return null;
            }
            return value;
        }

        @Override
        public String typeName()
        {
            return "integer";
        }

        @Override
        public String allowed()
        {
            return (sentinel != null ? sentinel + " (" + sentinelMeaning + ") or " : "") + min + ".." + max;
        }
    }

    /** true or false. */
    public record BoolSpec() implements Spec<Boolean>
    {
        @Override
        public Boolean read(final JsonNode node, final String path, final Errors errors)
        {
            if (!node.isBoolean())
            {
                errors.add(path, "expected true or false, got " + kind(node) + " " + describe(node));
                return null;
            }
            return node.booleanValue();
        }

        @Override
        public String typeName()
        {
            return "boolean";
        }
    }

    /** A string matching a pattern. */
    public record StringSpec(Pattern pattern, String patternText) implements Spec<String>
    {
        public static StringSpec matching(final String regex, final String description)
        {
            return new StringSpec(Pattern.compile(regex), description);
        }

        @Override
        public String read(final JsonNode node, final String path, final Errors errors)
        {
            if (!node.isTextual())
            {
                errors.add(path, "expected a string, got " + kind(node) + " " + describe(node));
                return null;
            }
            final String value = node.textValue();
            if (!pattern.matcher(value).matches())
            {
                errors.add(path, describe(node) + " is not " + patternText);
                return null;
            }
            return value;
        }

        @Override
        public String typeName()
        {
            return "string";
        }

        @Override
        public String allowed()
        {
            return patternText;
        }
    }

    /**
     * One of an enum's wire names.
     *
     * @param <E> the enum.
     */
    public record EnumSpec<E extends Enum<E> & WireEnum>(Class<E> type) implements Spec<E>
    {
        @Override
        public E read(final JsonNode node, final String path, final Errors errors)
        {
            if (node.isTextual())
            {
                for (final E constant : type.getEnumConstants())
                {
                    if (constant.wireName().equals(node.textValue()))
                    {
                        return constant;
                    }
                }
            }
            errors.add(path, describe(node) + " is not one of " + allowed());
            return null;
        }

        @Override
        public String typeName()
        {
            return "string";
        }

        @Override
        public String allowed()
        {
            return Arrays.stream(type.getEnumConstants()).map(WireEnum::wireName).collect(Collectors.joining(" | "));
        }
    }

    /** An IPv4 or IPv6 address literal (no host names), kept as the user wrote it. */
    public record AddressSpec() implements Spec<String>
    {
        @Override
        public String read(final JsonNode node, final String path, final Errors errors)
        {
            if (node.isTextual())
            {
                try
                {
                    InetAddress.ofLiteral(node.textValue());
                    return node.textValue();
                }
                catch (final IllegalArgumentException ignored)
                {
                    // reported below
                }
            }
            errors.add(path, describe(node) + " is not an IPv4 or IPv6 address");
            return null;
        }

        @Override
        public String typeName()
        {
            return "address";
        }

        @Override
        public String allowed()
        {
            return "IPv4 or IPv6 literal";
        }
    }

    /** An address prefix {@code addr/len}. */
    public record CidrSpec() implements Spec<Cidr>
    {
        @Override
        public Cidr read(final JsonNode node, final String path, final Errors errors)
        {
            if (node.isTextual())
            {
                try
                {
                    return Cidr.parse(node.textValue());
                }
                catch (final IllegalArgumentException ex)
                {
                    errors.add(path, describe(node) + " is not a CIDR prefix: " + ex.getMessage());
                    return null;
                }
            }
            errors.add(path, "expected a CIDR string, got " + kind(node) + " " + describe(node));
            return null;
        }

        @Override
        public String typeName()
        {
            return "CIDR";
        }

        @Override
        public String allowed()
        {
            return "a.b.c.d/0..32 or IPv6/0..128";
        }
    }

    /** {@code host:port} or {@code [v6]:port} with a literal address. */
    public record HostPortSpec() implements Spec<String>
    {
        private static final Pattern FORM = Pattern.compile("(?:\\[([0-9a-fA-F:.]+)]|([0-9.]+)):(\\d{1,5})");

        @Override
        public String read(final JsonNode node, final String path, final Errors errors)
        {
            if (node.isTextual())
            {
                final var m = FORM.matcher(node.textValue());
                if (m.matches())
                {
                    final int port = Integer.parseInt(m.group(3));
                    try
                    {
                        InetAddress.ofLiteral(m.group(1) != null ? m.group(1) : m.group(2));
                        if (port >= 1 && port <= 65535)
                        {
                            return node.textValue();
                        }
                    }
                    catch (final IllegalArgumentException ignored)
                    {
                        // reported below
                    }
                }
            }
            errors.add(path, describe(node) + " is not ADDRESS:PORT (port 1..65535, [v6]:port for IPv6)");
            return null;
        }

        @Override
        public String typeName()
        {
            return "string";
        }

        @Override
        public String allowed()
        {
            return "ADDRESS:PORT";
        }
    }

    /** An absolute file-system path. */
    public record PathSpec() implements Spec<String>
    {
        @Override
        public String read(final JsonNode node, final String path, final Errors errors)
        {
            if (node.isTextual() && node.textValue().startsWith("/") && node.textValue().indexOf('\0') < 0)
            {
                return node.textValue();
            }
            errors.add(path, describe(node) + " is not an absolute path");
            return null;
        }

        @Override
        public String typeName()
        {
            return "path";
        }

        @Override
        public String allowed()
        {
            return "absolute";
        }
    }
}
