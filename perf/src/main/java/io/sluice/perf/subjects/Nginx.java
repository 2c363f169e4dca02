package io.sluice.perf.subjects;

import io.sluice.perf.harness.BenchContext;
import io.sluice.perf.harness.Certificates;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.BackendPorts;
import io.sluice.testbed.Commands;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * nginx with one worker: HTTP reverse proxy with upstream keepalive to the backends, or TLS 1.3
 * termination (key on disk, no session tickets or cache: every handshake full) proxying each request to the same
 * backends as sluice, so the TLS comparison is proxy against proxy.
 */
public final class Nginx extends ProcessSubject
{
    private final Certificates.KeyType tlsKey;

    private Nginx(final Certificates.KeyType tlsKey)
    {
        this.tlsKey = tlsKey;
    }

    public static Nginx http()
    {
        return new Nginx(null);
    }

    public static Nginx tls(final Certificates.KeyType keyType)
    {
        return new Nginx(keyType);
    }

    @Override
    public String name()
    {
        return "nginx";
    }

    @Override
    public Kind kind()
    {
        return Kind.BASELINE;
    }

    @Override
    public String description()
    {
        return tlsKey == null ? "nginx reverse proxy, 1 worker, upstream keepalive 64 to the backends' nginx, access_log off"
            : "nginx TLS 1.3 termination (" + tlsKey.label() + ", key on disk, no tickets/cache), 1 worker, h2, proxies each "
                + "request to the backends' nginx (upstream keepalive 64), access_log off";
    }

    @Override
    public Optional<String> unavailable(final BenchContext ctx)
    {
        return Commands.available("nginx") ? Optional.empty() : Optional.of("nginx not installed (Debian package nginx)");
    }

    @Override
    protected boolean reportsRunQueue()
    {
        return tlsKey == null;
    }

    /** The master only manages: the worker process (its child) serves every connection. */
    @Override
    protected List<Long> servingPids(final Process started)
    {
        return started.children().map(ProcessHandle::pid).toList();
    }

    @Override
    protected int port()
    {
        return tlsKey == null ? 80 : 443;
    }

    @Override
    protected List<String> command(final BenchContext ctx, final Path dir) throws Exception
    {
        Files.createDirectories(dir.resolve("tmp"));
        final String server;
        if (tlsKey == null)
        {
            server = """
                    upstream backends {
                %s        keepalive 64;
                    }
                    server {
                        listen %s:80 backlog=4096;
                        location / {
                            proxy_pass http://backends;
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                        }
                    }
                """.formatted(backendList(ctx, BackendPorts.HTTP, "        server %2$s:%3$d;"), AddressPlan.VIP_V4);
        }
        else
        {
            server = """
                    upstream backends {
                %s        keepalive 64;
                    }
                    server {
                        listen %s:443 ssl http2 backlog=4096;
                        ssl_certificate %s;
                        ssl_certificate_key %s;
                        ssl_protocols TLSv1.3;
                        ssl_session_tickets off;
                        ssl_session_cache off;
                        location / {
                            proxy_pass http://backends;
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                        }
                    }
                """.formatted(backendList(ctx, BackendPorts.HTTP, "        server %2$s:%3$d;"), AddressPlan.VIP_V4,
                ctx.certificates().certificate(tlsKey), ctx.certificates().key(tlsKey));
        }
        final String conf = """
            daemon off;
            master_process on;
            worker_processes 1;
            worker_rlimit_nofile 20000;
            user root;
            pid %1$s/nginx.pid;
            error_log %1$s/error.log warn;
            events { worker_connections 10000; }
            http {
                access_log off;
                keepalive_requests 1000000;
                client_body_temp_path %1$s/tmp/body;
                proxy_temp_path %1$s/tmp/proxy;
                fastcgi_temp_path %1$s/tmp/fastcgi;
                uwsgi_temp_path %1$s/tmp/uwsgi;
                scgi_temp_path %1$s/tmp/scgi;
            %2$s}
            """.formatted(dir, server);
        final Path file = dir.resolve(tlsKey == null ? "nginx-http.conf" : "nginx-tls.conf");
        Files.writeString(file, conf);
        return List.of("nginx", "-c", file.toString(), "-p", dir.toString(), "-e", dir.resolve("error.log").toString());
    }
}
