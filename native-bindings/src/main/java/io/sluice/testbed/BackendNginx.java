package io.sluice.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * nginx as a backend HTTP server: one worker, fixed-size files under /bytes/N and "/", /echo
 * proxied to the built-in Java server on the same backend (stock nginx cannot echo all headers).
 * Debian's package does not start on install here (policy-rc.d); we run it in the foreground.
 */
final class BackendNginx
{
    static final int[] FILE_SIZES = {64, 1024, 16384, 65536};

    private BackendNginx()
    {
    }

    /** Writes the config and docroot for backend {@code be} into {@code runDir}; returns the command to run. */
    static List<String> prepare(final Path runDir, final String be, final int backends) throws IOException
    {
        final Path dir = runDir.resolve(be + "-nginx");
        final Path www = dir.resolve("www");
        Files.createDirectories(www.resolve("bytes"));
        Files.createDirectories(dir.resolve("tmp"));
        Files.write(www.resolve("index.html"), body(BackendPorts.ROOT_BODY_BYTES));
        for (final int size : FILE_SIZES)
        {
            Files.write(www.resolve("bytes").resolve(Integer.toString(size)), body(size));
        }
        final String conf = """
            daemon off;
            master_process on;
            worker_processes 1;
            user root;
            pid %1$s/nginx.pid;
            error_log %1$s/error.log warn;
            events { worker_connections 8192; }
            http {
                access_log off;
                keepalive_requests 1000000;
                default_type application/octet-stream;
                client_body_temp_path %1$s/tmp/body;
                proxy_temp_path %1$s/tmp/proxy;
                fastcgi_temp_path %1$s/tmp/fastcgi;
                uwsgi_temp_path %1$s/tmp/uwsgi;
                scgi_temp_path %1$s/tmp/scgi;
                server {
                    listen %3$d;
                    listen [::]:%3$d;
                    root %1$s/www;
                    add_header X-Backend %2$s always;
                    location = /health { return 200 "ok\\n"; }
                    location /echo {
                        proxy_pass http://127.0.0.1:%4$d;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                    }
                }
            }
            """.formatted(dir, be, BackendPorts.HTTP, BackendPorts.JAVA_HTTP);
        final Path confFile = dir.resolve("nginx.conf");
        Files.writeString(confFile, conf, StandardCharsets.UTF_8);
        return List.of("nginx", "-c", confFile.toString(), "-p", dir.toString(), "-e", dir.resolve("error.log").toString());
    }

    static byte[] body(final int size)
    {
        final byte[] body = new byte[size];
        for (int i = 0; i < size; i++)
        {
            body[i] = (byte)('a' + i % 26);
        }
        if (size > 0)
        {
            body[size - 1] = '\n';
        }
        return body;
    }
}
