package io.sluice.control.config;

import io.sluice.control.config.Schema.Field;
import io.sluice.control.config.Schema.ListSpec;
import io.sluice.control.config.Schema.ObjectSpec;
import io.sluice.control.config.Schema.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes docs/config.md from the schema, so the reference cannot drift from what the loader accepts
 * (a test compares the committed file with a fresh rendering).
 */
public final class ConfigReference
{
    private ConfigReference()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final Path out = Path.of(args.length > 0 ? args[0] : "docs/config.md");
        Files.writeString(out, render());
        System.out.println("wrote " + out);
    }

    public static String render()
    {
        final StringBuilder md = new StringBuilder();
        md.append("# Config reference (sluice/v1)\n\n")
            .append("Generated from the schema in `control/src/main/java/io/sluice/control/config` by\n")
            .append("`ConfigReference` (regenerate: `./sluice config-reference > docs/config.md`); a test fails when this file\n")
            .append("and the schema disagree. YAML and JSON take the same objects. Unknown keys, wrong types and out-of-range\n")
            .append("values are rejected at load time with the key path, the bad value and the allowed range, all errors at once,\n")
            .append("and nothing is applied. Keys that do not apply to a listener's protocol are rejected when given.\n")
            .append("See `examples/full.yaml` for every key in use.\n");
        final List<ObjectSpec<?>> seen = new ArrayList<>();
        section(md, SluiceConfig.SPEC, "", seen);
        return md.toString();
    }

    private static void section(final StringBuilder md, final ObjectSpec<?> spec, final String path, final List<ObjectSpec<?>> seen)
    {
        seen.add(spec);
        md.append("\n## `").append(path.isEmpty() ? "(top level)" : path).append("`\n\n")
            .append(spec.doc()).append("\n\n")
            .append("| key | type | default | allowed | description |\n")
            .append("|---|---|---|---|---|\n");
        final List<Object[]> nested = new ArrayList<>();
        for (final Field<?> field : spec.fields())
        {
            final Spec<?> fieldSpec = field.spec();
            md.append("| `").append(field.key()).append("` | ").append(fieldSpec.typeName())
                .append(" | ").append(field.required() ? "**required**" : cell(field.defaultText()))
                .append(" | ").append(cell(fieldSpec.allowed()))
                .append(" | ").append(cell(field.doc())).append(" |\n");
            final String childPath = path.isEmpty() ? field.key() : path + "." + field.key();
            if (fieldSpec instanceof ObjectSpec<?> object)
            {
                nested.add(new Object[] {object, childPath});
            }
            else if (fieldSpec instanceof ListSpec<?> list && list.element() instanceof ObjectSpec<?> object)
            {
                nested.add(new Object[] {object, childPath + "[]"});
            }
        }
        for (final Object[] child : nested)
        {
            if (!seen.contains(child[0]))
            {
                section(md, (ObjectSpec<?>)child[0], (String)child[1], seen);
            }
        }
    }

    private static String cell(final String text)
    {
        return text.isEmpty() ? "" : text.replace("|", "\\|").replace("\n", " ");
    }
}
