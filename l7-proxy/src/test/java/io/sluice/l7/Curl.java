package io.sluice.l7;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real curl binary (optionally inside a network namespace) and returns status, headers and body. */
final class Curl
{
    record Result(int status, String headers, String body)
    {
        String header(final String name)
        {
            for (final String line : headers.split("\r\n"))
            {
                final int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name))
                {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    private Curl()
    {
    }

    static Result get(final String url, final String... extraArgs) throws IOException, InterruptedException
    {
        return run(null, url, extraArgs);
    }

    static Result run(final String namespace, final String url, final String... extraArgs) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>();
        if (namespace != null)
        {
            command.addAll(List.of("ip", "netns", "exec", namespace));
        }
        command.addAll(List.of("curl", "-s", "-i", "--max-time", "10"));
        command.addAll(List.of(extraArgs));
        command.add(url);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(15, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new AssertionError("curl did not finish");
        }
        final String text = new String(out, StandardCharsets.ISO_8859_1);
        final int split = text.indexOf("\r\n\r\n");
        if (split < 0)
        {
            return new Result(0, text, "");
        }
        String head = text.substring(0, split);
        String body = text.substring(split + 4);
        // skip interim 100 Continue heads
        while (head.matches("(?s)HTTP/[0-9.]+ 100.*") && body.contains("\r\n\r\n"))
        {
            final int next = body.indexOf("\r\n\r\n");
            head = body.substring(0, next);
            body = body.substring(next + 4);
        }
        final int status = Integer.parseInt(head.split(" ", 3)[1].trim());
        return new Result(status, head, body);
    }
}
