package io.sluice.control.config;

import java.util.List;

/** A config was rejected whole; every error names its key path, the bad value and what is allowed. */
public final class ConfigException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final List<String> errors;

    public ConfigException(final String source, final List<String> errors)
    {
        super(source + ": " + errors.size() + (errors.size() == 1 ? " error" : " errors") + ", nothing applied:\n  "
            + String.join("\n  ", errors));
        this.errors = List.copyOf(errors);
    }

    public List<String> errors()
    {
        return errors;
    }
}
