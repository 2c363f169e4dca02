package io.sluice.perf.subjects;

import io.sluice.perf.harness.BenchContext;
import io.sluice.perf.harness.Certificates;
import io.sluice.perf.harness.Benchmarks;
import io.sluice.perf.harness.Measurement;
import io.sluice.perf.harness.Subject;
import io.sluice.perf.harness.Target;
import io.sluice.perf.load.H2load;
import io.sluice.perf.load.Wrk;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.BackendPorts;
import io.sluice.testbed.Testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * sluice itself: {@code bin/sluice node --config F --profile P} spawned in lb1 exactly like nginx, with a config
 * generated for the case (an http listener on the VIP for L7; tcp/udp listeners through the AF_XDP fastpath on lb1's
 * two links for L4), ready when the node prints its "ready" line (and, for TCP listeners, accepts from the client),
 * stopped by SIGTERM. The command comes from the distribution ({@link Launcher}); when neither a distribution nor the
 * node's main class is found the subject is reported missing with how to build it.
 */
public final class Sluice implements Subject
{
    /** The node's CLI entry point, used when the harness runs with control on its class path (no distribution). */
    public static final String MAIN_CLASS = "io.sluice.control.cli.Main";
    /** Names a distribution directory (the one holding bin/sluice) explicitly. */
    public static final String HOME_PROPERTY = "sluice.home";
    /** A node JVM took over 60 s to print its ready line under load average 16-23 on 2 cores (udp runs failed). */
    private static final long READY_TIMEOUT_MS = 150_000;
    private static final long STOP_GRACE_MS = 15_000;
    private static final int TLS_PORT = 443;
    /**
     * The node is a JVM: with 2 s of warm-up the L7 measured part still included C2 compiling the request path (11.7k
     * requests per proxy CPU-second; 31.5k after 6 s, same busy machine), so its runs get this much unmeasured load first.
     * 8 s was not enough either at load average ~19 (per-thread schedstat of a node under wrk -c64, one loop): in the 5 s
     * after an 8 s warm-up the C2 compiler thread took 17.3 µs per request beside the event loop's 24.1 (21.4k requests
     * per CPU-second, what the harness reported), after 40 s it took 0.1–0.4 of ~14 (70k). 30 s, as for TLS.
     */
    private static final double L7_WARMUP_SECONDS = 30;
    /**
     * L4: the forwarder's per-frame code is small and runs 10^4–10^5 times a second from the first second of load, so
     * C2 has it compiled within a few seconds; 8 s (what every sluice subject had before the L7 and TLS ones needed
     * more) keeps the L4 cases from paying 30 s of warm-up per run.
     */
    private static final double L4_WARMUP_SECONDS = 8;
    /**
     * The TLS path (tcnative, SniHandler, h2 codec, per-connection pipelines, backend exchange) is far more code than
     * the L7 one: perf on the node 6–20 s after start (ECDSA, load average ~15) put the C2 compiler thread at 44–51 % of
     * the node's CPU, with 8 s of warm-up the measured part was half JIT. 30 s leaves the steady state to be measured.
     */
    private static final double TLS_WARMUP_SECONDS = 30;
    /**
     * ...and then on until the JIT is done: per-thread CPU of fresh nodes under h2load (ECDSA, load average 17-21) put
     * the node's C2 compiler at 560, 244, 218 and 80 CPU-µs per handshake over the 8 s windows after those 30 s (the
     * handshake itself ~450), i.e. the measured part still paid for compiling. The warm-up goes on in slices until the
     * compiler threads (node and key server) take at most {@link #JIT_QUIET_SHARE} of the LB processes' CPU in
     * {@link #JIT_QUIET_SLICES} slices in a row, at most {@link #TLS_MAX_EXTRA_WARMUP_SECONDS} more; the figure says how
     * long it took.
     */
    private static final double TLS_WARMUP_SLICE_SECONDS = 5;
    private static final double TLS_MAX_EXTRA_WARMUP_SECONDS = 120;
    private static final double JIT_QUIET_SHARE = 0.05;
    /**
     * Quiet slices in a row that end the warm-up: one was not enough (an RSA run stopped after a 5 s lull 15 s in, and
     * C2 then took 300 CPU-µs per handshake of the measured part).
     */
    private static final int JIT_QUIET_SLICES = 2;
    /**
     * HTTP: the harness's warm-up is one wrk run whose 64 connections live until it ends, and the measured run opens 64
     * new ones. The first time the node sees connections close and open after 30 s of keep-alive traffic alone, C2's code
     * for the request path (compiled from profiles where no connection ever closed) meets branches and classes it never
     * saw: a node's compilation log (session 7) showed ~40 uncommon traps (unstable_if, class_check) in the first 0.1 s of
     * the measured run, and C2 recompiling ~65 methods of it (CompletionQueue.process, the channel's read completion, the
     * HTTP encoder, FrontendHandler.channelReadComplete...) over the next 0.4 s while they ran interpreted or in C1, 2.2
     * CPU-µs per request of JIT over the run. A node that serves real clients has seen connections come and go long
     * before its 30th second; so, as for TLS, the warm-up goes on in wrk slices (each one closes and reopens the
     * connections) until the compilers are quiet. The first slice sends {@code Connection: close}, so the per-connection
     * code runs thousands of times rather than 64 per slice: with keep-alive slices alone every slice still recompiled
     * ~20 methods (0.3-0.6 CPU-µs of JIT per request of the measured run), with it ~8.
     */
    private static final double HTTP_WARMUP_SLICE_SECONDS = 3;
    private static final double HTTP_MAX_EXTRA_WARMUP_SECONDS = 30;
    /** The header that makes the HTTP warm-up's first slice a connection per request. */
    private static final String CONNECTION_CLOSE = "Connection: close";
    /** Runs shorter than this are the harness's smoke runs: no steady-state wait (Harness.SMOKE_RUN_SECONDS). */
    private static final double SMOKE_RUN_SECONDS = 3;
    private static final String EVENT_LOOP_PREFIX = "sluice-l7-";
    private static final String ACCESS_LOG_PREFIX = "sluice-l7-acces";
    private static final String KEY_SERVER_CLIENT_PREFIX = "keyserver-clien";
    private static final List<String> JIT_PREFIXES = List.of("C1 CompilerThre", "C2 CompilerThre");
    /** G1's and Parallel's worker threads ("GC Thread#0"), G1's concurrent ones ("G1 Conc#0", "G1 Refine#0", "G1 Service"). */
    private static final List<String> GC_PREFIXES = List.of("GC Thread", "G1 ");

    private enum Mode
    {
        HTTP, TCP, UDP, TLS
    }

    private final Mode mode;
    private final String profile;
    private final Certificates.KeyType tlsKey;
    private final int forwarders;
    private boolean queuesSet;
    /** L4: the node runs the XDP flow offload ({@code node.offloadSessions}); lb1's veth peers get GRO for the run. */
    private final boolean offload;
    /** L4: lb1's veths in generic XDP ({@code mode: xdp-generic}) instead of native. */
    private final boolean generic;
    private boolean groSet;
    private Process process;
    private Process keyServer;
    private Path log;
    private Map<Long, Long> forwarderTicksAtStart = Map.of();
    /** HTTP and TLS: where the load goes (the warm-up slices use it). */
    private Target l7Target;
    private double extraWarmupSeconds;
    private Map<String, Long> ticksAtStart = Map.of();
    /** HTTP: how long the event loops waited for a CPU over the measured part. */
    private final ThreadSched.Window eventLoopWait = new ThreadSched.Window(
        comm -> comm.startsWith(EVENT_LOOP_PREFIX) && !comm.startsWith(ACCESS_LOG_PREFIX));
    private Path stateDir;
    private long[] forwarderWorkAtStart;

    private Sluice(final Mode mode, final String profile)
    {
        this(mode, profile, null, 1);
    }

    private Sluice(final Mode mode, final String profile, final Certificates.KeyType tlsKey, final int forwarders)
    {
        this(mode, profile, tlsKey, forwarders, false, false);
    }

    private Sluice(final Mode mode, final String profile, final Certificates.KeyType tlsKey, final int forwarders,
        final boolean offload, final boolean generic)
    {
        this.mode = mode;
        this.profile = profile;
        this.tlsKey = tlsKey;
        this.forwarders = forwarders;
        this.offload = offload;
        this.generic = generic;
    }

    /**
     * TLS: a keyless https listener on VIP:443 (TLS 1.3 by the client's choice, h2 via ALPN, the key in a
     * {@code sluice keyserver} process beside the node in lb1, one crypto worker) proxying to the backends' nginx.
     */
    public static Sluice tls(final Certificates.KeyType keyType)
    {
        return new Sluice(Mode.TLS, null, keyType, 1);
    }

    /** L7: an http listener on VIP:80 to the backends' HTTP port, as nginx and HAProxy proxy it. */
    public static Sluice http(final String profile)
    {
        return new Sluice(Mode.HTTP, profile);
    }

    /** L4: a tcp listener on the backends' echo port, FullNAT through the fastpath. */
    public static Sluice tcp()
    {
        return new Sluice(Mode.TCP, null);
    }

    /**
     * L4 TCP with {@code forwarders} forwarders ({@code sluice-Nfw}): lb1's uplink and segment veths get N queues for the
     * run (both ends, {@code ethtool -L}; back to the testbed's count at stop), forwarder i serves queue i of each; a
     * frame that arrives on a queue whose forwarder does not own its flow is handed off to the owner.
     */
    public static Sluice tcp(final int forwarders)
    {
        return new Sluice(Mode.TCP, null, null, forwarders);
    }

    /** L4: udp listeners on the generator's ports (one per flow's port) to the sinks, FullNAT through the fastpath. */
    public static Sluice udp()
    {
        return new Sluice(Mode.UDP, null);
    }

    /**
     * {@link #tcp()} or {@link #udp()} with the XDP flow offload ({@code sluice-offload}): the node's steering program
     * forwards established flows' ordinary frames itself (docs/fastpath.md, "XDP flow offload"); GRO is switched on at
     * the router's and the segment's ends of lb1's veths for the run (a veth takes redirected frames only with NAPI),
     * and back off at stop.
     */
    public static Sluice offload(final boolean tcp)
    {
        return new Sluice(tcp ? Mode.TCP : Mode.UDP, null, null, 1, true, false);
    }

    /**
     * {@link #tcp()} or {@link #udp()} with lb1's veths in generic XDP ({@code sluice-generic}, or with the flow offload
     * {@code sluice-offload-generic}): the program runs on the receiving veth's skb in its sender's softirq, without the
     * NAPI hop and page-pool copy a veth takes for native XDP; an offloaded frame is redirected as an skb, so the veth
     * peers need no GRO.
     */
    public static Sluice generic(final boolean tcp, final boolean offload)
    {
        return new Sluice(tcp ? Mode.TCP : Mode.UDP, null, null, 1, offload, true);
    }

    @Override
    public String name()
    {
        if (forwarders > 1)
        {
            return "sluice-" + forwarders + "fw";
        }
        if (offload)
        {
            return generic ? "sluice-offload-generic" : "sluice-offload";
        }
        if (generic)
        {
            return "sluice-generic";
        }
        return profile == null ? "sluice" : "sluice-" + profile;
    }

    @Override
    public Kind kind()
    {
        return Kind.SLUICE;
    }

    @Override
    public String description()
    {
        return switch (mode)
        {
            case HTTP -> "sluice node, profile " + profile + ": L7 http listener (Netty), round robin over the backends' nginx, "
                + "no X-Forwarded-For and no access log (node.accessLog: false; as nginx and HAProxy here), "
                + (int)L7_WARMUP_SECONDS + " s warm-up (JIT), then on in " + (int)HTTP_WARMUP_SLICE_SECONDS + " s wrk runs (new "
                + "connections each, the first with a connection per request) until the JIT compilers take ≤ "
                + (int)(JIT_QUIET_SHARE * 100) + " % of its CPU in " + JIT_QUIET_SLICES + " in a row (≤ "
                + (int)HTTP_MAX_EXTRA_WARMUP_SECONDS + " s more)";
            case TLS -> "sluice node, keyless https listener (" + tlsKey.label() + ", key in a sluice keyserver process in lb1, "
                + "1 crypto worker, libcrypto), h2, proxies each request to the backends' nginx (as nginx and HAProxy "
                + "do in this case), no access log (as nginx and HAProxy here), " + (int)TLS_WARMUP_SECONDS + " s warm-up, then on "
                + "until the JIT compilers take ≤ " + (int)(JIT_QUIET_SHARE * 100) + " % of its CPU for "
                + (int)(JIT_QUIET_SLICES * TLS_WARMUP_SLICE_SECONDS) + " s (≤ " + (int)TLS_MAX_EXTRA_WARMUP_SECONDS + " s more)";
            case TCP, UDP -> "sluice node: L4 " + mode.name().toLowerCase(java.util.Locale.ROOT) + " FullNAT through the AF_XDP "
                + "fastpath (copy mode, " + (generic ? "generic" : "native") + " XDP on lb1's uplink and segment veths), local address "
                + AddressPlan.lbLocalV4(1) + (mode == Mode.UDP ? ", maglev (5-tuple)" : ", round robin") + ", no health checks"
                + (forwarders > 1 ? ", " + forwarders + " forwarders on " + forwarders + "-queue veths (hand-offs between them)"
                : ", 1 forwarder")
                + (offload ? ", XDP flow offload (established flows forwarded by the XDP program" + (generic ? ")"
                : "; GRO on lb1's veth peers)") : "");
        };
    }

    @Override
    public double minWarmupSeconds()
    {
        return switch (mode)
        {
            case TLS -> TLS_WARMUP_SECONDS;
            case HTTP -> L7_WARMUP_SECONDS;
            default -> L4_WARMUP_SECONDS;
        };
    }

    @Override
    public Optional<String> unavailable(final BenchContext ctx)
    {
        if (forwarders > Runtime.getRuntime().availableProcessors())
        {
            // a veth created without a queue count gets one per possible CPU: the most ethtool -L can switch on
            return Optional.of(forwarders + " forwarders need " + forwarders + " veth queues; veths here have one per CPU ("
                + Runtime.getRuntime().availableProcessors() + ")");
        }
        return Launcher.find().isPresent() ? Optional.empty() : Optional.of(Launcher.MISSING);
    }

    @Override
    public Target start(final BenchContext ctx) throws Exception
    {
        final Testbed testbed = ctx.testbed();
        final Path dir = ctx.workDir().resolve(name() + "-" + mode.name().toLowerCase(java.util.Locale.ROOT)
            + (tlsKey == null ? "" : "-" + tlsKey.label()));
        Files.createDirectories(dir);
        stateDir = dir.resolve("state");
        // a fresh state dir per run: the journal must not carry an earlier run's config over this one
        deleteTree(stateDir);
        final Path shm = dir.resolve("shm");
        if (mode == Mode.TLS)
        {
            startKeyServer(ctx, dir, shm);
        }
        if (forwarders > 1)
        {
            queuesSet = true;
            testbed.setLinkQueues(Testbed.LB1, Testbed.ROUTER, forwarders);
            testbed.setLinkQueues(Testbed.LB1, Testbed.SEGMENT, forwarders);
        }
        if (offload && !generic)
        {
            groSet = true;
            testbed.setPeerGro(Testbed.LB1, Testbed.ROUTER, true);
            testbed.setPeerGro(Testbed.LB1, Testbed.SEGMENT, true);
        }
        final Path config = dir.resolve("node.yaml");
        Files.writeString(config, config(ctx, stateDir, shm));
        final String effectiveProfile = profile != null ? profile : ctx.settings().profile();
        final List<String> cmd = new ArrayList<>(ctx.subjectPinning());
        cmd.addAll(Launcher.find().orElseThrow(() -> new IllegalStateException(Launcher.MISSING))
            .command(List.of("node", "--config", config.toString(), "--profile", effectiveProfile)));
        log = dir.resolve("process.log");
        Files.deleteIfExists(log);
        process = testbed.spawn(Testbed.LB1, log, cmd);
        awaitReady();
        if (mode == Mode.HTTP)
        {
            awaitTcp(ctx, BackendPorts.HTTP);
            l7Target = Target.of(AddressPlan.VIP_V4, BackendPorts.HTTP);
            return l7Target;
        }
        if (mode == Mode.TLS)
        {
            awaitTcp(ctx, TLS_PORT);
            l7Target = Target.of(AddressPlan.VIP_V4, TLS_PORT);
            return l7Target;
        }
        if (mode == Mode.TCP)
        {
            awaitTcp(ctx, BackendPorts.TCP_ECHO);
        }
        return new Target(List.of(AddressPlan.VIP_V4), BackendPorts.TCP_ECHO, References.backendNodes(ctx));
    }

    private void awaitReady() throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        while (System.nanoTime() < deadline)
        {
            if (Files.exists(log) && Files.readString(log).contains(" ready: "))
            {
                return;
            }
            if (!process.isAlive())
            {
                throw new IllegalStateException(name() + " exited with " + process.exitValue() + ": " + reason(log));
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        throw new IllegalStateException(name() + " printed no ready line within " + READY_TIMEOUT_MS + " ms: "
            + ProcessSubject.tail(log));
    }

    /** The node's own lines ("sluice node: cannot start: ...", config errors) without the libraries' INFO lines. */
    private static String reason(final Path log) throws IOException
    {
        final List<String> own = Files.readAllLines(log).stream()
            .filter(line -> !line.matches("^\\d{4}-\\d\\d-\\d\\dT.*") && !line.isBlank()).toList();
        final String text = String.join("\n", own.subList(Math.max(0, own.size() - 8), own.size()));
        return text.isEmpty() ? ProcessSubject.tail(log) : text;
    }

    private static String reasonOrTail(final Path log)
    {
        try
        {
            return reason(log);
        }
        catch (final IOException ex)
        {
            return "(no log)";
        }
    }

    private void awaitTcp(final BenchContext ctx, final int port)
    {
        try
        {
            ctx.testbed().awaitTcp(Testbed.CLIENT, AddressPlan.VIP_V4, port, 20_000);
        }
        catch (final IllegalStateException ex)
        {
            throw new IllegalStateException(name() + " is ready but " + AddressPlan.VIP_V4 + ":" + port
                + " does not accept from the client: " + ex.getMessage() + "; log: " + reasonOrTail(log), ex);
        }
    }

    /** Imports the case's certificate and key into a fresh key directory and starts the key server on it. */
    private void startKeyServer(final BenchContext ctx, final Path dir, final Path shm) throws Exception
    {
        final Launcher launcher = Launcher.find().orElseThrow(() -> new IllegalStateException(Launcher.MISSING));
        final Path keyDir = dir.resolve("keys");
        final Path masterKey = dir.resolve("master.key");
        deleteTree(keyDir);
        deleteTree(shm);
        Files.deleteIfExists(masterKey);
        final String cert = ctx.certificates().certificate(tlsKey).toString();
        final io.sluice.testbed.Commands.Result imported = io.sluice.testbed.Commands.run(launcher.command(List.of("keyserver",
            "import", "--dir", keyDir.toString(), "--master-key-file", masterKey.toString(), "--name", "bench", "--cert", cert,
            "--key", ctx.certificates().key(tlsKey).toString(), "--chain", cert)));
        if (!imported.ok())
        {
            throw new IllegalStateException("sluice keyserver import failed: " + imported.output());
        }
        final List<String> cmd = new ArrayList<>(ctx.subjectPinning());
        cmd.addAll(launcher.command(List.of("keyserver", "--dir", keyDir.toString(), "--shm", shm.toString(),
            "--master-key-file", masterKey.toString(), "--workers", "1")));
        final Path keyServerLog = dir.resolve("keyserver.log");
        Files.deleteIfExists(keyServerLog);
        keyServer = ctx.testbed().spawn(Testbed.LB1, keyServerLog, cmd);
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        while (!Files.exists(shm.resolve("keyserver.shm")))
        {
            if (!keyServer.isAlive() || System.nanoTime() > deadline)
            {
                throw new IllegalStateException("sluice keyserver did not come up: " + reason(keyServerLog));
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    String config(final BenchContext ctx, final Path stateDir, final Path shm)
    {
        final Testbed testbed = ctx.testbed();
        final StringBuilder yaml = new StringBuilder();
        yaml.append("apiVersion: sluice/v1\nnode:\n  name: bench\n  stateDir: ").append(stateDir).append('\n');
        yaml.append("  drainTimeoutSeconds: 1\n");
        // like the baselines (nginx access_log off, HAProxy without a log line): the figure is about proxying
        yaml.append("  accessLog: false\n");
        final StringBuilder servers = new StringBuilder();
        if (mode == Mode.TLS)
        {
            yaml.append("  keyserver: ").append(shm).append('\n');
            yaml.append("loadBalancers:\n  - name: bench\n    vip: ").append(AddressPlan.VIP_V4).append('\n');
            yaml.append("    listeners:\n      - {protocol: https, port: ").append(TLS_PORT)
                .append(", serverGroup: app, certificates: [bench], tlsPolicy: tls_1_2_strict_with_1_3, http2: true, scheduler: rr, ")
                .append("xForwardedFor: false, healthCheck: {enabled: false}}\n");
            yaml.append("    serverGroups:\n      - name: app\n        servers: [").append(serverList(testbed, BackendPorts.HTTP))
                .append("]\n");
            return yaml.toString();
        }
        if (mode == Mode.HTTP)
        {
            yaml.append("loadBalancers:\n  - name: bench\n    vip: ").append(AddressPlan.VIP_V4).append('\n');
            yaml.append("    listeners:\n      - {protocol: http, port: ").append(BackendPorts.HTTP)
                .append(", serverGroup: app, scheduler: rr, xForwardedFor: false, healthCheck: {enabled: false}}\n");
            yaml.append("    serverGroups:\n      - name: app\n        servers: [").append(serverList(testbed, BackendPorts.HTTP))
                .append("]\n");
            return yaml.toString();
        }
        if (forwarders > 1)
        {
            yaml.append("  forwarders: ").append(forwarders).append('\n');
        }
        if (offload)
        {
            yaml.append("  offloadSessions: 65536\n");
        }
        final String xdpMode = generic ? "xdp-generic" : "xdp";
        yaml.append("  interfaces: [{name: ").append(testbed.iface(Testbed.LB1, Testbed.ROUTER)).append(", mode: ").append(xdpMode)
            .append("}, {name: ").append(testbed.iface(Testbed.LB1, Testbed.SEGMENT)).append(", mode: ").append(xdpMode).append("}]\n");
        yaml.append("  localAddresses: [").append(AddressPlan.lbLocalV4(1)).append("]\n");
        yaml.append("loadBalancers:\n  - name: bench\n    vip: ").append(AddressPlan.VIP_V4).append("\n    listeners:\n");
        if (mode == Mode.TCP)
        {
            yaml.append("      - {protocol: tcp, port: ").append(BackendPorts.TCP_ECHO)
                .append(", serverGroup: app, scheduler: rr, healthCheck: {enabled: false}}\n");
            servers.append("      - name: app\n        servers: [").append(serverList(testbed, BackendPorts.TCP_ECHO)).append("]\n");
        }
        else
        {
            // the generator's flows differ by destination port: one udp listener per port, all to the sinks' first port;
            // each listener sees one flow, so rr would send every flow to the first backend: maglev hashes the 5-tuple
            for (int port = Benchmarks.UDP_BASE_PORT; port < Benchmarks.UDP_BASE_PORT + Benchmarks.UDP_FLOWS; port++)
            {
                yaml.append("      - {protocol: udp, port: ").append(port)
                    .append(", serverGroup: app, scheduler: maglev, healthCheck: {enabled: false}}\n");
            }
            servers.append("      - name: app\n        servers: [").append(serverList(testbed, Benchmarks.UDP_BASE_PORT)).append("]\n");
        }
        yaml.append("    serverGroups:\n").append(servers);
        return yaml.toString();
    }

    private static String serverList(final Testbed testbed, final int port)
    {
        final List<String> servers = new ArrayList<>();
        for (int k = 1; k <= testbed.backendCount(); k++)
        {
            servers.add("{address: " + AddressPlan.backendV4(k) + ", port: " + port + "}");
        }
        return String.join(", ", servers);
    }

    @Override
    public void measureStart(final BenchContext ctx)
    {
        if ((mode == Mode.TLS || mode == Mode.HTTP) && process != null && ctx.settings().runSeconds() >= SMOKE_RUN_SECONDS)
        {
            warmUpUntilJitQuiet(ctx);
        }
        if (mode == Mode.TLS && process != null)
        {
            ticksAtStart = roleTicks();
            return;
        }
        if (mode == Mode.HTTP && process != null)
        {
            ticksAtStart = roleTicks();
            eventLoopWait.start(List.of(process.pid()));
            return;
        }
        forwarderTicksAtStart = process == null ? Map.of() : ThreadCpu.ticksByThread(process.pid(), ThreadCpu.FORWARDER_PREFIX);
        forwarderWorkAtStart = mode == Mode.TCP || mode == Mode.UDP ? ForwarderWork.read(stateDir) : null;
    }

    /**
     * After the harness's warm-up: more load in slices (h2load for TLS, wrk for HTTP; each slice is a new load process,
     * so its connections are new) until the JIT compilers are (nearly) idle, or the cap.
     */
    private void warmUpUntilJitQuiet(final BenchContext ctx)
    {
        final boolean tls = mode == Mode.TLS;
        final String url = (tls ? "https://" : "http://") + l7Target.urlHost() + ":" + l7Target.port() + "/";
        final JitQuietWarmup warmup = tls
            ? new JitQuietWarmup(TLS_WARMUP_SLICE_SECONDS, TLS_MAX_EXTRA_WARMUP_SECONDS, JIT_QUIET_SHARE, JIT_QUIET_SLICES)
            : new JitQuietWarmup(HTTP_WARMUP_SLICE_SECONDS, HTTP_MAX_EXTRA_WARMUP_SECONDS, JIT_QUIET_SHARE, JIT_QUIET_SLICES);
        extraWarmupSeconds = warmup.run(i ->
        {
            if (tls)
            {
                H2load.run(ctx.testbed(), url, Benchmarks.H2LOAD_CONNECTIONS, warmup.sliceSeconds(), ctx.settings().loadCpu());
            }
            else
            {
                // the first slice opens a connection per request: the per-connection code (accept, backend connect,
                // pipeline setup, close) runs ~10^4 times instead of 64 per slice, enough for C2
                Wrk.run(ctx.testbed(), url, 1, Benchmarks.WRK_CONNECTIONS, (int)warmup.sliceSeconds(), ctx.settings().loadCpu(),
                    i == 0 ? List.of(CONNECTION_CLOSE) : List.of());
            }
        }, () ->
        {
            final Map<String, Long> ticks = roleTicks();
            return new JitQuietWarmup.Ticks(ticks.get("node") + ticks.get("keyServer"), ticks.get("jit"));
        });
    }

    /**
     * CPU clock ticks of the LB processes by role, from /proc (threads alive at the time; the JVMs live through the run):
     * the node's event loops, its key-server client poller (TLS), its JIT compilers and GC threads, the whole node, the
     * whole key server (TLS) and the JIT compilers of both.
     */
    private Map<String, Long> roleTicks()
    {
        final Map<String, Long> node = ThreadCpu.ticksByRole(process.pid(), Sluice::role);
        final Map<String, Long> keyServerRoles = keyServer == null ? Map.of() : ThreadCpu.ticksByRole(keyServer.pid(), Sluice::role);
        final Map<String, Long> ticks = new LinkedHashMap<>();
        ticks.put("node", node.values().stream().mapToLong(Long::longValue).sum());
        ticks.put("keyServer", keyServerRoles.values().stream().mapToLong(Long::longValue).sum());
        ticks.put("eventLoop", node.getOrDefault("eventLoop", 0L));
        ticks.put("keyServerClient", node.getOrDefault("keyServerClient", 0L));
        ticks.put("nodeJit", node.getOrDefault("jit", 0L));
        ticks.put("gc", node.getOrDefault("gc", 0L));
        ticks.put("jit", node.getOrDefault("jit", 0L) + keyServerRoles.getOrDefault("jit", 0L));
        return ticks;
    }

    /** A node thread's role from its name (comm, at most 15 characters). */
    static String role(final String comm)
    {
        if (comm.startsWith(ACCESS_LOG_PREFIX))
        {
            return "other";
        }
        if (comm.startsWith(EVENT_LOOP_PREFIX))
        {
            return "eventLoop";
        }
        if (comm.startsWith(KEY_SERVER_CLIENT_PREFIX))
        {
            return "keyServerClient";
        }
        if (JIT_PREFIXES.stream().anyMatch(comm::startsWith))
        {
            return "jit";
        }
        return GC_PREFIXES.stream().anyMatch(comm::startsWith) ? "gc" : "other";
    }

    private static Map<String, Long> minus(final Map<String, Long> now, final Map<String, Long> before)
    {
        final Map<String, Long> used = new LinkedHashMap<>();
        now.forEach((role, ticks) -> used.put(role, ticks - before.getOrDefault(role, 0L)));
        return used;
    }

    /**
     * CPU-µs per unit by role over the measured part: the node's event loops, JIT compilers, GC threads and the rest of
     * the node (conductor, API, health, VM thread); TLS adds the key server (whole process, its JIT in jitCpuUsPerUnit
     * too), the node's key-server client and how much steady-state warm-up it took.
     */
    private Map<String, Double> cpuBreakdown(final Measurement measurement)
    {
        final Map<String, Long> used = minus(roleTicks(), ticksAtStart);
        final double usPerTick = 1e6 / ThreadCpu.TICKS_PER_SECOND / measurement.units();
        final long other = used.get("node") - used.get("eventLoop") - used.get("keyServerClient") - used.get("nodeJit")
            - used.get("gc");
        final Map<String, Double> extra = new LinkedHashMap<>();
        extra.put("eventLoopCpuUsPerUnit", used.get("eventLoop") * usPerTick);
        if (mode == Mode.TLS)
        {
            extra.put("keyServerCpuUsPerUnit", used.get("keyServer") * usPerTick);
            extra.put("keyServerClientCpuUsPerUnit", used.get("keyServerClient") * usPerTick);
        }
        extra.put("jitCpuUsPerUnit", used.get("jit") * usPerTick);
        extra.put("gcCpuUsPerUnit", used.get("gc") * usPerTick);
        extra.put("otherCpuUsPerUnit", other * usPerTick);
        extra.put("extraWarmupSeconds", extraWarmupSeconds);
        return extra;
    }

    /**
     * L4: CPU time of the node's forwarder threads per unit (they do all the per-packet work), from /proc; HTTP: the event
     * loops' wait for a CPU (runqPercent) and the node's CPU per request by role; TLS: CPU per handshake by role.
     */
    @Override
    public Map<String, Double> measureEnd(final BenchContext ctx, final Measurement measurement)
    {
        if (process == null || measurement.units() <= 0)
        {
            return Map.of();
        }
        if (mode == Mode.HTTP)
        {
            final Map<String, Double> extra = new LinkedHashMap<>();
            extra.put("runqPercent", eventLoopWait.runqPercent(List.of(process.pid())));
            extra.putAll(cpuBreakdown(measurement));
            return extra;
        }
        if (mode == Mode.TLS)
        {
            return cpuBreakdown(measurement);
        }
        final Map<Long, Long> now = ThreadCpu.ticksByThread(process.pid(), ThreadCpu.FORWARDER_PREFIX);
        if (now.isEmpty())
        {
            return Map.of();
        }
        long ticks = 0;
        for (final Map.Entry<Long, Long> entry : now.entrySet())
        {
            ticks += entry.getValue() - forwarderTicksAtStart.getOrDefault(entry.getKey(), 0L);
        }
        final Map<String, Double> extra = new LinkedHashMap<>();
        extra.put("forwarderCpuUsPerUnit", ticks / ThreadCpu.TICKS_PER_SECOND * 1e6 / measurement.units());
        extra.putAll(ForwarderWork.perUnit(forwarderWorkAtStart, ForwarderWork.read(stateDir), measurement.units()));
        return extra;
    }

    @Override
    public void stop(final BenchContext ctx)
    {
        if (process != null)
        {
            ctx.testbed().stop(process, STOP_GRACE_MS);
            process = null;
        }
        if (keyServer != null)
        {
            ctx.testbed().stop(keyServer, STOP_GRACE_MS);
            keyServer = null;
        }
        if (queuesSet)
        {
            // the other subjects of the run (one forwarder, kernel baselines) see the testbed as it was built
            queuesSet = false;
            ctx.testbed().setLinkQueues(Testbed.LB1, Testbed.ROUTER, ctx.testbed().lbQueues());
            ctx.testbed().setLinkQueues(Testbed.LB1, Testbed.SEGMENT, ctx.testbed().lbQueues());
        }
        if (groSet)
        {
            groSet = false;
            ctx.testbed().setPeerGro(Testbed.LB1, Testbed.ROUTER, false);
            ctx.testbed().setPeerGro(Testbed.LB1, Testbed.SEGMENT, false);
        }
    }

    private static void deleteTree(final Path root) throws IOException
    {
        if (!Files.exists(root))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(root))
        {
            for (final Path path : paths.sorted(Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(path);
            }
        }
    }
}
