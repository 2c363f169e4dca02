package io.sluice.control.demo;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The live view: on a terminal one block of lines rewritten in place (ANSI cursor-up and erase-line) every refresh,
 * otherwise one plain line per protocol each time {@link #render} is called.
 */
final class ProgressView
{
    private static final String ERASE_LINE = "\u001b[2K";

    private final PrintStream out;
    private final boolean terminal;
    private final Map<String, Long> lastOk = new HashMap<>();
    private final Map<String, Long> lastFailed = new HashMap<>();
    private long lastRenderNs;
    private int linesDrawn;

    ProgressView(final PrintStream out, final boolean terminal)
    {
        this.out = out;
        this.terminal = terminal;
    }

    /** Whether the process writes to a terminal (ANSI view) rather than a file or pipe. */
    static boolean stdoutIsTerminal()
    {
        final java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    boolean terminal()
    {
        return terminal;
    }

    void render(final String phase, final double elapsedSeconds, final List<Traffic.Stream> streams)
    {
        final long now = System.nanoTime();
        final double seconds = lastRenderNs == 0 ? 0 : (now - lastRenderNs) / 1e9;
        lastRenderNs = now;
        final StringBuilder block = new StringBuilder();
        if (terminal && linesDrawn > 0)
        {
            block.append("\u001b[").append(linesDrawn).append('A');
        }
        int lines = 0;
        block.append(terminal ? ERASE_LINE : "").append(String.format(Locale.ROOT, "[%5.1f s] %s%n", elapsedSeconds, phase));
        lines++;
        for (final Traffic.Stream stream : streams)
        {
            final long ok = stream.ok();
            final long failed = stream.failed();
            final double okRate = seconds == 0 ? 0 : (ok - lastOk.getOrDefault(stream.protocol, 0L)) / seconds;
            final double failedRate = seconds == 0 ? 0 : (failed - lastFailed.getOrDefault(stream.protocol, 0L)) / seconds;
            lastOk.put(stream.protocol, ok);
            lastFailed.put(stream.protocol, failed);
            final String error = stream.lastError;
            block.append(terminal ? ERASE_LINE : "").append(String.format(Locale.ROOT,
                "  %-5s ok %7d (%6.1f/s)  failed %6d (%6.1f/s)%s%n", stream.protocol, ok, okRate, failed, failedRate,
                failed > 0 && error != null ? "  last error: " + abbreviate(error, 60) : ""));
            lines++;
        }
        linesDrawn = terminal ? lines : 0;
        out.print(block);
        out.flush();
    }

    static String abbreviate(final String text, final int max)
    {
        return text.length() <= max ? text : text.substring(0, max - 3) + "...";
    }
}
