package io.sluice.control.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.counters.CounterSnapshot;
import io.sluice.counters.CountersFile;
import io.sluice.keyserver.cli.KeyServerCommand;
import io.sluice.testbed.AddressPlan;
import io.sluice.testbed.Commands;
import io.sluice.testbed.Netns;
import io.sluice.testbed.Testbed;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

/**
 * {@code sluice demo}: a namespace testbed (client, router with ECMP over lb1 and lb2, backends, a management link to
 * lb1), a key server with a freshly made demo certificate, two {@code sluice node} processes, real TCP, UDP, HTTP and
 * HTTPS traffic from the client namespace, a SIGKILL of lb1's node half way, and a summary. Everything it starts is
 * tracked by the testbed (processes by PID, namespaces by name) and removed at the end, on failure and on Ctrl-C
 * (the testbed's shutdown hook); {@code --keep} leaves it running.
 */
final class Demo
{
    /** What the user asked for. */
    record Settings(boolean keep, int durationSeconds, int ratePerSecond, int backends, String prefix)
    {
    }

    /** Exit codes: every protocol worked through the failover / some did not (summary says why) / the demo could not run. */
    static final int EXIT_ALL_PASSED = 0;
    static final int EXIT_SOME_FAILED = 1;
    static final int EXIT_SETUP_FAILED = 2;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long NODE_READY_TIMEOUT_MS = 120_000;
    private static final long WARM_UP_TIMEOUT_MS = 20_000;
    /** A protocol passes only with this many answers in a row at the end: it recovered, not just answered once. */
    private static final int RECOVERED_STREAK = 3;
    /** Answers in a row each protocol needs before the timed run: enough new flows to reach both nodes and every backend. */
    private static final int WARM_UP_STREAK = 10;
    private static final String[] PROTOCOLS = {"tcp", "udp", "http", "https"};
    /** A short-lived CLI JVM (sluice apply): small heap, C1 only, so it starts fast beside the nodes. */
    private static final List<String> CLIENT_JVM = List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    private final Settings settings;
    private final PrintStream out;
    /** Why a protocol cannot work in this build, as the nodes said (their start errors, /healthz reasons). */
    private final Map<String, Map<String, List<String>>> knownReasons = new LinkedHashMap<>();
    /** What the warm-up saw per protocol, when anything but clean answers. */
    private final Map<String, String> warmUpNotes = new java.util.concurrent.ConcurrentSkipListMap<>();
    private final Process[] nodes = new Process[3];
    private final Path[] nodeLogs = new Path[3];
    private Testbed testbed;
    private Path run;
    private volatile long withdrawnNs;
    /** Set once the run ended by itself (not by a signal). */
    private volatile boolean finished;
    private boolean lb1WithInterfaces = true;
    private int nodeStarts;

    Demo(final Settings settings, final PrintStream out)
    {
        this.settings = settings;
        this.out = out;
        for (final String protocol : PROTOCOLS)
        {
            knownReasons.put(protocol, new LinkedHashMap<>());
        }
    }

    int run()
    {
        if (!"root".equals(System.getProperty("user.name")))
        {
            out.println("sluice demo: needs root (it creates network namespaces, XDP programs and AF_XDP sockets)");
            return EXIT_SETUP_FAILED;
        }
        if (!Commands.available("openssl"))
        {
            out.println("sluice demo: needs openssl to make the demo certificate (apt-get install openssl)");
            return EXIT_SETUP_FAILED;
        }
        boolean kept = false;
        final Thread notice = new Thread(() ->
        {
            if (!finished)
            {
                out.println();
                out.println("sluice demo: interrupted; stopping everything it started (processes by PID, namespaces "
                    + (testbed == null ? "" : testbed.prefix() + "-*") + ")");
                out.flush();
            }
        });
        Runtime.getRuntime().addShutdownHook(notice);
        try
        {
            final Testbed.Builder builder = Testbed.builder().backends(settings.backends()).ecmp(true).management(true)
                .nginx(false).keep(settings.keep());
            if (settings.prefix() != null)
            {
                builder.prefix(settings.prefix());
            }
            step("building the testbed: client, router (ECMP over lb1 and lb2), " + settings.backends()
                + " backends, management link to lb1");
            testbed = builder.build();
            run = testbed.runDir();
            Files.createDirectories(run);
            step("testbed " + testbed.prefix() + " up (namespaces " + String.join(", ", testbed.namespaces()) + ")");

            final Path ca = certificates();
            startKeyServer();
            startNodes();
            applyConfig();
            reportNodeHealth();
            final int exit = traffic(ca);
            if (settings.keep())
            {
                restartLb1();
                testbed.detach();
                kept = true;
                printKept();
            }
            finished = true;
            return exit;
        }
        catch (final Exception ex)
        {
            finished = true;
            out.println("sluice demo: FAILED: " + ex.getMessage());
            for (int n = 1; n <= 2; n++)
            {
                tail("lb" + n + " node log", nodeLogs[n]);
            }
            return EXIT_SETUP_FAILED;
        }
        finally
        {
            if (testbed != null && !kept)
            {
                step("cleaning up: stopping every process the demo started and deleting namespaces " + testbed.prefix() + "-*");
                testbed.close();
                step("clean");
            }
            try
            {
                Runtime.getRuntime().removeShutdownHook(notice);
            }
            catch (final IllegalStateException shuttingDown)
            {
                // the JVM is already exiting (a signal): the notice runs, which is what it is for
            }
        }
    }

    private void step(final String text)
    {
        out.println("sluice demo: " + text);
        out.flush();
    }

    /** A demo CA and a P-256 server certificate for {@link DemoConfig#HOST_NAME} and the VIP, imported into the key store. */
    private Path certificates() throws IOException
    {
        final Path pki = Files.createDirectories(run.resolve("pki"));
        final Path caKey = pki.resolve("demo-ca.key");
        final Path ca = pki.resolve("demo-ca.crt");
        final Path key = pki.resolve("demo.key");
        final Path csr = pki.resolve("demo.csr");
        final Path cert = pki.resolve("demo.crt");
        final Path ext = pki.resolve("demo.ext");
        Commands.check("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=sluice demo CA", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", caKey.toString(), "-out", ca.toString(),
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Commands.check("openssl", "req", "-new", "-nodes", "-subj", "/CN=" + DemoConfig.HOST_NAME, "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", key.toString(), "-out", csr.toString());
        Files.writeString(ext, "[v3]\nsubjectAltName=DNS:" + DemoConfig.HOST_NAME + ",IP:" + AddressPlan.VIP_V4
            + "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
        Commands.check("openssl", "x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(),
            "-CAcreateserial", "-out", cert.toString(), "-days", "2", "-sha256", "-extfile", ext.toString(), "-extensions", "v3");
        // the private key enters the key server's store and nothing else keeps it
        final int imported = new CommandLine(new KeyServerCommand()).execute("import", "--dir", run.resolve("keys").toString(),
            "--name", DemoConfig.CERTIFICATE, "--cert", cert.toString(), "--key", key.toString(), "--chain", ca.toString(),
            "--master-key-file", run.resolve("keyserver-master.key").toString());
        Files.deleteIfExists(key);
        Files.deleteIfExists(caKey);
        if (imported != 0)
        {
            throw new IOException("keyserver import of the demo certificate exited " + imported);
        }
        step("demo certificate for " + DemoConfig.HOST_NAME + " (ECDSA P-256, signed by a demo CA) imported into the key store");
        return ca;
    }

    private void startKeyServer() throws IOException
    {
        final Path log = run.resolve("keyserver.log");
        // the key server needs no network: it lives in the segment's namespace only so the testbed tracks and ends it
        final Process keyServer = testbed.spawn(Testbed.SEGMENT, log, sluice(List.of("-Xmx128m", "-XX:+UseSerialGC"),
            "keyserver", "--dir", run.resolve("keys").toString(), "--shm", run.resolve("keyserver-shm").toString(),
            "--master-key-file", run.resolve("keyserver-master.key").toString(), "--workers", "1", "--max-clients", "8"));
        awaitLog(keyServer, log, "keyserver ready", "key server");
        step("key server running (pid " + keyServer.pid() + "), shared memory " + run.resolve("keyserver-shm"));
    }

    /** Both nodes at once (their JVMs start in parallel); a node that cannot serve L4 here is restarted without it. */
    private void startNodes() throws IOException
    {
        for (int n = 1; n <= 2; n++)
        {
            nodes[n] = spawnNode(n, true);
        }
        for (int n = 1; n <= 2; n++)
        {
            try
            {
                awaitLog(nodes[n], nodeLogs[n], "ready", "node lb" + n);
            }
            catch (final IOException ex)
            {
                if (nodes[n].isAlive())
                {
                    throw ex;
                }
                final String reason = firstErrorLine(nodeLogs[n]);
                step("node lb" + n + " refused its data interfaces (" + reason + "); restarting it without them: "
                    + "tcp and udp listeners will not be served");
                addReason("tcp", "lb" + n, reason);
                addReason("udp", "lb" + n, reason);
                nodes[n] = spawnNode(n, false);
                if (n == 1)
                {
                    lb1WithInterfaces = false;
                }
                awaitLog(nodes[n], nodeLogs[n], "ready", "node lb" + n);
            }
            step("node lb" + n + " ready (pid " + nodes[n].pid() + ")");
        }
        Thread.ofPlatform().daemon(true).name("demo-announcer").start(this::announce);
    }

    private Process spawnNode(final int n, final boolean withInterfaces) throws IOException
    {
        final String lb = "lb" + n;
        final List<String> interfaces = withInterfaces
            ? List.of(testbed.iface(lb, Testbed.ROUTER), testbed.iface(lb, Testbed.SEGMENT)) : List.of();
        final String api = (n == 1 ? testbed.addresses().managementLbV4() : "127.0.0.1") + ":" + DemoConfig.API_PORT;
        final Path config = run.resolve(lb + ".yaml");
        Files.writeString(config, DemoConfig.node(n, interfaces, api, run.resolve(lb + "-state"), run.resolve("keyserver-shm")));
        // a fresh log per start: "ready" in an earlier start's log must not count
        nodeLogs[n] = run.resolve(lb + (withInterfaces ? "" : "-l7only") + "-" + (++nodeStarts) + ".log");
        return testbed.spawn(lb, nodeLogs[n], sluice(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
            "node", "--config", config.toString(), "--profile", "shared"));
    }

    /**
     * {@code sluice apply -f demo.yaml} against each node's API, as an operator would: lb1's from here through the
     * management link, lb2's from inside its namespace. Both run at once.
     */
    private void applyConfig() throws Exception
    {
        final Path file = run.resolve("demo.yaml");
        Files.writeString(file, DemoConfig.loadBalancers(settings.backends()));
        final java.util.concurrent.CompletableFuture<Commands.Result> lb1 = java.util.concurrent.CompletableFuture.supplyAsync(
            () -> Commands.run(sluice(CLIENT_JVM, "apply", "-f", file.toString(), "--api", "http://" + testbed.addresses().managementLbV4()
                + ":" + DemoConfig.API_PORT, "--token-file", run.resolve("lb1-state").resolve("api.token").toString()), 60_000));
        final Commands.Result lb2 = testbed.exec(Testbed.LB2, sluice(CLIENT_JVM, "apply", "-f", file.toString(), "--api",
            "http://127.0.0.1:" + DemoConfig.API_PORT, "--token-file", run.resolve("lb2-state").resolve("api.token").toString())
            .toArray(String[]::new));
        final Commands.Result[] results = {lb1.get(), lb2};
        for (int n = 1; n <= 2; n++)
        {
            final Commands.Result result = results[n - 1];
            final String said = String.join("; ", result.output().strip().lines().toList());
            if (result.exitCode() != 0)
            {
                throw new IOException("sluice apply -f " + file + " to lb" + n + " exited " + result.exitCode() + ": " + said);
            }
            step("sluice apply -f demo.yaml to lb" + n + ": " + ProgressView.abbreviate(said, 300));
        }
    }

    /**
     * Stands in for the routing protocol (BGP with BFD in production): when a node's process is gone, the router's
     * multipath route to the VIP loses that node, so ECMP sends everything to the survivor.
     */
    private void announce()
    {
        while (true)
        {
            if (nodes[1] != null && !nodes[1].isAlive())
            {
                try
                {
                    testbed.execChecked(Testbed.ROUTER, "ip", "route", "replace", AddressPlan.VIP_V4 + "/32", "via",
                        AddressPlan.lbUplinkV4(2));
                    testbed.execChecked(Testbed.ROUTER, "ip", "-6", "route", "replace", AddressPlan.VIP_V6 + "/128", "via",
                        AddressPlan.lbUplinkV6(2));
                    withdrawnNs = System.nanoTime();
                }
                catch (final RuntimeException ex)
                {
                    out.println("sluice demo: could not withdraw lb1 from the router: " + ex.getMessage());
                }
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** Each node's /healthz: lb1 through the management link from here, lb2 from inside its namespace. */
    private void reportNodeHealth()
    {
        final String lb1 = testbed.addresses().managementLbV4();
        report("lb1", httpGet(lb1, DemoConfig.API_PORT, "/healthz"));
        report("lb2", Netns.call(testbed.ns(Testbed.LB2), () -> httpGet("127.0.0.1", DemoConfig.API_PORT, "/healthz")));
    }

    private void report(final String node, final String body)
    {
        try
        {
            final JsonNode health = JSON.readTree(body);
            final List<String> reasons = new ArrayList<>();
            health.path("reasons").forEach(r -> reasons.add(r.asText()));
            step(node + " /healthz: " + health.path("status").asText("?") + (reasons.isEmpty() ? "" : " — " + String.join("; ", reasons)));
            for (final String reason : reasons)
            {
                for (final String protocol : PROTOCOLS)
                {
                    if (Pattern.compile("\\b" + protocol + "\\b").matcher(reason).find())
                    {
                        addReason(protocol, node, reason);
                    }
                }
            }
        }
        catch (final IOException ex)
        {
            step(node + " /healthz: unreadable answer: " + ProgressView.abbreviate(body, 200));
        }
    }

    private void addReason(final String protocol, final String node, final String reason)
    {
        final List<String> nodesSaying = knownReasons.get(protocol).computeIfAbsent(reason, r -> new ArrayList<>());
        if (!nodesSaying.contains(node))
        {
            nodesSaying.add(node);
        }
    }

    /** "lb1, lb2: reason" for each reason the nodes gave for this protocol. */
    private List<String> reasons(final String protocol)
    {
        final List<String> text = new ArrayList<>();
        knownReasons.get(protocol).forEach((reason, nodesSaying) -> text.add(String.join(", ", nodesSaying) + ": " + reason));
        return text;
    }

    private int traffic(final Path ca) throws Exception
    {
        final String vip = AddressPlan.VIP_V4;
        final Traffic traffic = new Traffic(testbed.ns(Testbed.CLIENT), settings.ratePerSecond());
        traffic.add("tcp", Probes.tcpEcho(vip, DemoConfig.TCP_PORT));
        traffic.add("udp", Probes.udpEcho(vip, DemoConfig.UDP_PORT));
        traffic.add("http", Probes.http(vip, DemoConfig.HTTP_PORT));
        traffic.add("https", Probes.https(vip, DemoConfig.HTTPS_PORT, ca));
        warmUp(traffic);

        final boolean terminal = ProgressView.stdoutIsTerminal();
        final ProgressView view = new ProgressView(out, terminal);
        final long refreshNs = TimeUnit.MILLISECONDS.toNanos(terminal ? 500 : 2000);
        final long startNs = System.nanoTime();
        final long endNs = startNs + TimeUnit.SECONDS.toNanos(settings.durationSeconds());
        final long failoverNs = startNs + TimeUnit.SECONDS.toNanos(settings.durationSeconds()) / 2;
        step("driving traffic from the client namespace for " + settings.durationSeconds() + " s, at most "
            + settings.ratePerSecond() + " requests/s per protocol (a new connection each); lb1's node is killed at "
            + String.format(Locale.ROOT, "%.1f s", (failoverNs - startNs) / 1e9));
        traffic.start();
        long nextRender = startNs;
        while (true)
        {
            final long now = System.nanoTime();
            if (now >= endNs)
            {
                break;
            }
            if (traffic.killNs() == 0 && now >= failoverNs)
            {
                traffic.markKill(System.nanoTime());
                nodes[1].destroyForcibly();
                if (!terminal)
                {
                    step("SIGKILL sent to lb1's node (pid " + nodes[1].pid() + ")");
                }
            }
            if (now >= nextRender)
            {
                final String phase = traffic.killNs() == 0 ? "both LB nodes serving (ECMP)"
                    : withdrawnNs == 0 ? "lb1's node killed; router still hashing to it" : "lb1 withdrawn; lb2 serving alone";
                view.render(phase, (now - startNs) / 1e9, traffic.streams());
                nextRender += refreshNs;
            }
            final long wake = Math.min(Math.min(nextRender, endNs), traffic.killNs() == 0 ? failoverNs : Long.MAX_VALUE);
            LockSupport.parkNanos(Math.max(1, wake - System.nanoTime()));
        }
        traffic.stop();
        view.render("done", (System.nanoTime() - startNs) / 1e9, traffic.streams());
        // on a crowded machine the route change (two `ip` processes) can outlast a short run: the summary reports it
        final long withdrawDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (withdrawnNs == 0 && System.nanoTime() < withdrawDeadline)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        return summary(traffic, startNs);
    }

    /**
     * Waits (bounded) until each protocol answered {@link #WARM_UP_STREAK} times in a row, one thread per protocol, so
     * the timed run measures the steady state and the failover rather than start-up. The start-up failures are kept and
     * shown (a node drops the first packet towards a neighbour it has not resolved yet, which costs a new flow a
     * retransmission).
     */
    private void warmUp(final Traffic traffic) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WARM_UP_TIMEOUT_MS);
        final List<Thread> threads = new ArrayList<>();
        for (final Traffic.Stream stream : traffic.streams())
        {
            // a protocol the nodes said they do not serve is not waited for: it would only delay the run
            if (!knownReasons.get(stream.protocol).isEmpty())
            {
                warmUpNotes.put(stream.protocol, "not served by the nodes");
                continue;
            }
            threads.add(Netns.start(testbed.ns(Testbed.CLIENT), "demo-warm-up-" + stream.protocol, () ->
            {
                int inARow = 0;
                int failures = 0;
                String firstError = null;
                long sequence = 0;
                while (inARow < WARM_UP_STREAK && System.nanoTime() < deadline)
                {
                    try
                    {
                        stream.probe.once(sequence++);
                        inARow++;
                    }
                    catch (final Exception ex)
                    {
                        inARow = 0;
                        failures++;
                        firstError = firstError == null ? Traffic.reason(ex) : firstError;
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                    }
                }
                final String note = inARow < WARM_UP_STREAK ? "no " + WARM_UP_STREAK + " answers in a row within "
                    + WARM_UP_TIMEOUT_MS / 1000 + " s" : failures == 0 ? null : "answered after " + failures + " start-up failures";
                if (note != null)
                {
                    warmUpNotes.put(stream.protocol, note + (firstError == null ? "" : " (first: " + firstError + ")"));
                }
            }));
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        step(warmUpNotes.isEmpty() ? "warm-up: every protocol answered " + WARM_UP_STREAK + " times in a row through the VIP"
            : "warm-up (not counted in the run): " + notes());
    }

    private String notes()
    {
        final List<String> text = new ArrayList<>();
        warmUpNotes.forEach((protocol, note) -> text.add(protocol + ": " + note));
        return String.join("; ", text);
    }

    private int summary(final Traffic traffic, final long startNs)
    {
        final long killNs = traffic.killNs();
        out.println();
        out.println("== sluice demo summary ==");
        out.println(String.format(Locale.ROOT, "failover: lb1's node SIGKILLed at %.1f s; %s", (killNs - startNs) / 1e9,
            withdrawnNs == 0 ? "the router never withdrew lb1" : String.format(Locale.ROOT,
                "the router withdrew lb1 from the VIP's multipath route %d ms later", (withdrawnNs - killNs) / 1_000_000)));
        if (!warmUpNotes.isEmpty())
        {
            out.println("warm-up, not counted below: " + notes());
        }
        final String drops = drops();
        out.println("drop counters of the nodes (sluice stat): " + (drops.isEmpty() ? "none" : drops));
        out.println(String.format(Locale.ROOT, "%-6s %20s %20s  %-16s %s", "proto", "before ok/failed", "after ok/failed",
            "recovered in", "backends"));
        boolean allPassed = true;
        final List<String> results = new ArrayList<>();
        for (final Traffic.Stream stream : traffic.streams())
        {
            final long okBefore = stream.okBefore.get();
            final long failedBefore = stream.failedBefore.get();
            final long okAfter = stream.okAfter.get();
            final long failedAfter = stream.failedAfter.get();
            final boolean recovered = stream.okSinceFailure.get() >= RECOVERED_STREAK;
            final String recovery = failedAfter == 0 ? (okAfter > 0 ? "0 s (no failure)" : "-")
                : !recovered ? "not recovered" : String.format(Locale.ROOT, "%.2f s", (stream.lastFailureAfterKillNs - killNs) / 1e9);
            // a steady state that loses more than 1 % of requests (one slow request aside) before the kill is not working
            final boolean steady = failedBefore <= 1 || failedBefore * 100 <= okBefore + failedBefore;
            final boolean pass = okBefore > 0 && okAfter > 0 && recovered && steady;
            allPassed &= pass;
            out.println(String.format(Locale.ROOT, "%-6s %20s %20s  %-16s %s", stream.protocol, okBefore + "/" + failedBefore,
                okAfter + "/" + failedAfter, recovery, stream.backends.isEmpty() ? "-" : backends(stream)));
            final StringBuilder result = new StringBuilder(String.format(Locale.ROOT,
                "RESULT %s %s before ok=%d failed=%d after ok=%d failed=%d recovery=%s", stream.protocol, pass ? "PASS" : "FAIL",
                okBefore, failedBefore, okAfter, failedAfter, recovery.replace(' ', '_')));
            if (!pass)
            {
                final List<String> why = reasons(stream.protocol);
                if (okBefore > 0 && !steady)
                {
                    why.add(failedBefore + " of " + (okBefore + failedBefore) + " requests failed before the failover (more than 1 % "
                        + "and more than one)");
                }
                if (okBefore > 0 && okAfter > 0 && !recovered)
                {
                    why.add("still failing at the end of the run");
                }
                if (stream.topError() != null)
                {
                    why.add("clients saw: " + stream.topError());
                }
                if (!drops.isEmpty() && (stream.protocol.equals("tcp") || stream.protocol.equals("udp")))
                {
                    why.add("node drops: " + drops);
                }
                result.append(" reason=").append(why.isEmpty() ? "no answers" : String.join("; ", why));
            }
            else
            {
                result.append(" proved=").append(proved(stream.protocol, failedAfter));
            }
            results.add(result.toString());
        }
        out.println();
        results.forEach(out::println);
        out.println(allPassed ? "RESULT all PASS" : "RESULT some FAIL (each FAIL line says why)");
        out.flush();
        return allPassed ? EXIT_ALL_PASSED : EXIT_SOME_FAILED;
    }

    /** Every non-zero node-wide drop counter of both nodes, read from their counters files (lb1's survives its kill). */
    private String drops()
    {
        final List<String> text = new ArrayList<>();
        for (int n = 1; n <= 2; n++)
        {
            final Path file = run.resolve("lb" + n + "-state").resolve(CountersFile.FILE_NAME);
            if (!Files.exists(file))
            {
                continue;
            }
            final CountersFile counters = CountersFile.openForReading(file);
            try
            {
                for (final CounterSnapshot.Entry entry : CounterSnapshot.take(counters.reader()).counters())
                {
                    // node-wide drops only: the per-listener and per-backend ones repeat them
                    if (entry.value() > 0 && entry.name().contains("drop") && !entry.name().contains(".listener.")
                        && !entry.name().contains(".backend.") && !entry.name().contains("["))
                    {
                        text.add("lb" + n + " " + entry.name() + "=" + entry.value());
                    }
                }
            }
            finally
            {
                counters.close();
            }
        }
        return String.join(", ", text);
    }

    private static String backends(final Traffic.Stream stream)
    {
        final StringBuilder text = new StringBuilder();
        stream.backends.entrySet().stream().sorted(Map.Entry.comparingByKey())
            .forEach(e -> text.append(text.isEmpty() ? "" : " ").append(e.getKey()).append('=').append(e.getValue().sum()));
        return text.toString();
    }

    private static String proved(final String protocol, final long brokenByFailover)
    {
        final String part = switch (protocol)
        {
            case "tcp" -> "L4 FullNAT over AF_XDP (XDP steering, forwarder, backend echo) on both nodes, then lb2 alone";
            case "udp" -> "L4 UDP through the AF_XDP fastpath on both nodes, then lb2 alone";
            case "http" -> "the L7 proxy on the VIP on both nodes spread over the backends, then lb2 alone";
            case "https" -> "TLS terminated by the proxy with the private key only in the key server process, then lb2 alone";
            default -> protocol;
        };
        return part + (brokenByFailover == 0 ? "; no request failed over the failover"
            : "; " + brokenByFailover + (brokenByFailover == 1 ? " request" : " requests")
                + " in flight through or hashed to lb1 failed until the router withdrew it");
    }

    /**
     * For {@code --keep}: lb1's node starts again from the same file; its journal brings back the applied load balancers
     * without another apply. Then the router spreads over both nodes again.
     */
    private void restartLb1() throws IOException
    {
        step("--keep: restarting lb1's node (its config journal in its stateDir brings back the applied load balancers)");
        nodes[1] = spawnNode(1, lb1WithInterfaces);
        awaitLog(nodes[1], nodeLogs[1], "ready", "node lb1");
        testbed.execChecked(Testbed.ROUTER, "ip", "route", "replace", AddressPlan.VIP_V4 + "/32",
            "nexthop", "via", AddressPlan.lbUplinkV4(1), "nexthop", "via", AddressPlan.lbUplinkV4(2));
        testbed.execChecked(Testbed.ROUTER, "ip", "-6", "route", "replace", AddressPlan.VIP_V6 + "/128",
            "nexthop", "via", AddressPlan.lbUplinkV6(1), "nexthop", "via", AddressPlan.lbUplinkV6(2));
        step("node lb1 ready again (pid " + nodes[1].pid() + "); the router spreads the VIP over lb1 and lb2 again");
        report("lb1", httpGet(testbed.addresses().managementLbV4(), DemoConfig.API_PORT, "/healthz"));
    }

    private void printKept() throws IOException
    {
        out.println();
        out.println("sluice demo: --keep: the testbed " + testbed.prefix() + " stays up (both nodes, the key server, backends).");
        out.println("  API of lb1 via the management link: http://" + testbed.addresses().managementLbV4() + ":"
            + DemoConfig.API_PORT + " (token file " + run.resolve("lb1-state").resolve("api.token") + ")");
        out.println("    e.g. sluice get loadbalancer --api http://" + testbed.addresses().managementLbV4() + ":" + DemoConfig.API_PORT
            + " --token-file " + run.resolve("lb1-state").resolve("api.token"));
        out.println("  API of lb2: ip netns exec " + testbed.ns(Testbed.LB2) + " sluice get loadbalancer --token-file "
            + run.resolve("lb2-state").resolve("api.token"));
        out.println("  try: ip netns exec " + testbed.ns(Testbed.CLIENT) + " curl -s http://" + AddressPlan.VIP_V4 + "/");
        out.println("  counters: sluice stat --dir " + run.resolve("lb1-state") + " --watch");
        out.println("  logs and configs: " + run);
        out.println("  tear down: sluice testbed down " + testbed.prefix());
    }

    /** The sluice command with these JVM options: the distribution's bin/sluice when run from one, else this JVM's java and class path. */
    private static List<String> sluice(final List<String> jvmOptions, final String... args)
    {
        final String home = System.getenv("SLUICE_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "sluice")))
        {
            final List<String> command = new ArrayList<>(List.of("env", "SLUICE_JAVA_OPTS=" + String.join(" ", jvmOptions),
                Path.of(home, "bin", "sluice").toString()));
            command.addAll(List.of(args));
            return command;
        }
        return Testbed.javaCommand(jvmOptions, "io.sluice.control.cli.Main", List.of(args));
    }

    private static void awaitLog(final Process process, final Path log, final String text, final String what) throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NODE_READY_TIMEOUT_MS);
        while (System.nanoTime() < deadline)
        {
            if (Files.exists(log) && Files.readString(log).contains(text))
            {
                return;
            }
            if (!process.isAlive())
            {
                throw new IOException(what + " exited with " + process.exitValue() + " before it was ready: " + firstErrorLine(log));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
        throw new IOException(what + " not ready within " + NODE_READY_TIMEOUT_MS / 1000 + " s (log " + log + ")");
    }

    private static String firstErrorLine(final Path log) throws IOException
    {
        if (!Files.exists(log))
        {
            return "no output";
        }
        final List<String> lines = Files.readAllLines(log);
        for (final String line : lines)
        {
            final String lower = line.toLowerCase(Locale.ROOT);
            if (lower.contains("node.interfaces") || lower.contains("error") || lower.contains("exception") || lower.contains("cannot"))
            {
                return line.strip();
            }
        }
        return lines.isEmpty() ? "no output" : lines.getLast().strip();
    }

    private void tail(final String what, final Path log)
    {
        if (log == null || !Files.exists(log))
        {
            return;
        }
        try
        {
            final List<String> lines = Files.readAllLines(log);
            out.println("--- last lines of " + what + " (" + log + "):");
            lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> out.println("    " + l));
        }
        catch (final IOException ignored)
        {
            // the log is a courtesy; the error above already says what failed
        }
    }

    /** A minimal HTTP/1.1 GET on a socket made by the calling thread (so in that thread's namespace). */
    static String httpGet(final String host, final int port, final String path)
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress(host, port), 2000);
            socket.setSoTimeout(2000);
            final OutputStream request = socket.getOutputStream();
            request.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            request.flush();
            final InputStream in = socket.getInputStream();
            final String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            final int body = response.indexOf("\r\n\r\n");
            return body < 0 ? response : response.substring(body + 4);
        }
        catch (final IOException ex)
        {
            return "{\"status\": \"unreachable: " + ex.getMessage() + "\"}";
        }
    }
}
