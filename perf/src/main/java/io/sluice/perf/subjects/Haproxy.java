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
 * HAProxy with one thread: {@code mode tcp} to the backends' echo port, {@code mode http} to their
 * port 80 with connection reuse, or TLS 1.3 termination proxying to the same port 80 (as nginx and sluice do in
 * the TLS case, so the comparison is proxy against proxy). maxconn stays under the open-file limit (HAProxy refuses more).
 */
public final class Haproxy extends ProcessSubject
{
    public enum Mode
    {
        TCP, HTTP, TLS
    }

    private final Mode mode;
    private final Certificates.KeyType keyType;

    private Haproxy(final Mode mode, final Certificates.KeyType keyType)
    {
        this.mode = mode;
        this.keyType = keyType;
    }

    public static Haproxy tcp()
    {
        return new Haproxy(Mode.TCP, null);
    }

    public static Haproxy http()
    {
        return new Haproxy(Mode.HTTP, null);
    }

    public static Haproxy tls(final Certificates.KeyType keyType)
    {
        return new Haproxy(Mode.TLS, keyType);
    }

    @Override
    public String name()
    {
        return "haproxy";
    }

    @Override
    public Kind kind()
    {
        return Kind.BASELINE;
    }

    @Override
    public String description()
    {
        return switch (mode)
        {
            case TCP -> "HAProxy `mode tcp`, nbthread 1, roundrobin over the backends' TCP echo";
            case HTTP -> "HAProxy `mode http`, nbthread 1, roundrobin, `http-reuse always` to the backends' nginx, no log";
            case TLS -> "HAProxy TLS 1.3 termination (" + keyType.label() + ", key on disk, no tickets), nbthread 1, "
                + "h2, proxies each request to the backends' nginx (roundrobin, `http-reuse always`), no log";
        };
    }

    @Override
    public Optional<String> unavailable(final BenchContext ctx)
    {
        return Commands.available("haproxy") ? Optional.empty() : Optional.of("haproxy not installed (Debian package haproxy)");
    }

    @Override
    protected boolean reportsRunQueue()
    {
        return mode == Mode.HTTP;
    }

    @Override
    protected int port()
    {
        return switch (mode)
        {
            case TCP -> BackendPorts.TCP_ECHO;
            case HTTP -> 80;
            case TLS -> 443;
        };
    }

    @Override
    protected List<String> command(final BenchContext ctx, final Path dir) throws Exception
    {
        final StringBuilder cfg = new StringBuilder();
        cfg.append("""
            global
                nbthread 1
                maxconn 4096
                pidfile %s/haproxy.pid
                tune.ssl.default-dh-param 2048
            defaults
                mode %s
                timeout connect 5s
                timeout client 30s
                timeout server 30s
                maxconn 4096
            """.formatted(dir, mode == Mode.TCP ? "tcp" : "http"));
        switch (mode)
        {
            case TCP ->
            {
                cfg.append("frontend fe\n    bind ").append(AddressPlan.VIP_V4).append(':').append(port()).append('\n');
                cfg.append("    default_backend be\nbackend be\n    balance roundrobin\n");
                cfg.append(backendList(ctx, BackendPorts.TCP_ECHO, "    server %s %s:%d\n"));
            }
            case HTTP ->
            {
                cfg.append("frontend fe\n    bind ").append(AddressPlan.VIP_V4).append(':').append(port()).append('\n');
                cfg.append("    option http-keep-alive\n    default_backend be\nbackend be\n    balance roundrobin\n");
                cfg.append("    http-reuse always\n");
                cfg.append(backendList(ctx, BackendPorts.HTTP, "    server %s %s:%d\n"));
            }
            case TLS ->
            {
                cfg.append("frontend fe\n    bind ").append(AddressPlan.VIP_V4).append(':').append(port()).append(" ssl crt ")
                    .append(ctx.certificates().pem(keyType)).append(" alpn h2,http/1.1 ssl-min-ver TLSv1.3 no-tls-tickets\n");
                cfg.append("    option http-keep-alive\n    default_backend be\nbackend be\n    balance roundrobin\n");
                cfg.append("    http-reuse always\n");
                cfg.append(backendList(ctx, BackendPorts.HTTP, "    server %s %s:%d\n"));
            }
            default -> throw new IllegalStateException(mode.toString());
        }
        final Path file = dir.resolve("haproxy-" + mode.name().toLowerCase() + ".cfg");
        Files.writeString(file, cfg.toString());
        return List.of("haproxy", "-db", "-f", file.toString());
    }
}
