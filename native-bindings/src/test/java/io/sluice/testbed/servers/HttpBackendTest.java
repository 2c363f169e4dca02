package io.sluice.testbed.servers;

import io.sluice.testbed.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class HttpBackendTest
{
    private static final int MIB = 1 << 20;

    /**
     * The backend as the testbed runs it (a 64 MiB heap): a 14 MiB body after a 12 MiB one used to run it out of heap
     * with the headers sent, and the client waited for the body forever; bodies larger than the heap must stream.
     */
    @Test
    void shouldStreamBodiesLargerThanItsHeapOneAfterAnother(@TempDir final Path dir) throws Exception
    {
        final int port;
        try (ServerSocket probe = new ServerSocket(0))
        {
            port = probe.getLocalPort();
        }
        final Process backend = new ProcessBuilder(Testbed.javaCommand(HttpBackend.class.getName(),
            java.util.List.of("--name", "big", "--port", Integer.toString(port))))
            .redirectErrorStream(true).redirectOutput(dir.resolve("backend.log").toFile()).start();
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build())
        {
            awaitHealthy(client, port, backend);
            for (final int size : new int[] {12 * MIB, 14 * MIB, 32 * MIB, 32 * MIB})
            {
                final HttpResponse<InputStream> response = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/bytes/" + size)).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.headers().firstValueAsLong("content-length")).hasValue(size);
                try (InputStream body = response.body())
                {
                    assertThat(verify(body, size)).as("bytes of /bytes/" + size + " matching the pattern").isEqualTo(size);
                }
            }
            assertThat(backend.isAlive()).isTrue();
        }
        finally
        {
            backend.destroy();
            if (!backend.waitFor(5, TimeUnit.SECONDS))
            {
                backend.destroyForcibly();
            }
        }
    }

    private static void awaitHealthy(final HttpClient client, final int port, final Process backend) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        final HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
            .timeout(Duration.ofSeconds(5)).build();
        while (true)
        {
            assertThat(backend.isAlive()).as("backend process").isTrue();
            try
            {
                if (client.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200)
                {
                    return;
                }
            }
            catch (final IOException ex)
            {
                // not listening yet
            }
            assertThat(System.nanoTime()).as("backend healthy within 30 s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Reads the body, checking every byte against the pattern; returns the count of bytes that matched, in order. */
    private static long verify(final InputStream body, final int size) throws IOException
    {
        final byte[] buffer = new byte[64 << 10];
        long position = 0;
        int read;
        while ((read = body.read(buffer)) > 0)
        {
            for (int i = 0; i < read; i++, position++)
            {
                final byte expected = position == size - 1 ? (byte)'\n' : (byte)('a' + position % 26);
                if (buffer[i] != expected)
                {
                    return position;
                }
            }
        }
        return position;
    }
}
