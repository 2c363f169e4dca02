package io.sluice.testbed;

import java.io.File;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A namespace testbed: {@code client ─ router ─ (ECMP) ─ lb1 | lb2 ─ bridge ─ be1..beN}, every
 * namespace and interface named with a short run prefix, addresses from {@link AddressPlan}.
 *
 * <pre>
 *   client ──── router ──┬── lb1 ──┐
 *                        └── lb2 ──┤ seg (bridge PREFIX-br, in its own namespace)
 *                                  ├── be1
 *                                  └── beN
 *   root ─ PREFIX-m ─── lb1 (optional management link, 198.19.M.0/30)
 * </pre>
 *
 * Built with {@link #builder()}; closing it kills the processes it spawned and every process left
 * in its namespaces, then deletes the namespaces and the management link. A JVM shutdown hook does
 * the same on exit, and {@link #sweep()} (run by every build) removes runs whose owner died.
 */
public final class Testbed implements AutoCloseable
{
    public static final String CLIENT = "client";
    public static final String ROUTER = "router";
    public static final String LB1 = "lb1";
    public static final String LB2 = "lb2";
    public static final String SEGMENT = "seg";
    public static final int MAX_PREFIX_LENGTH = 9;

    private static final System.Logger LOG = System.getLogger(Testbed.class.getName());
    private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{1,8}");
    private static final long SERVER_READY_TIMEOUT_MS = 60_000;

    private final String prefix;
    private final int backends;
    private final boolean ecmp;
    private final boolean management;
    private final int lbQueues;
    private final AddressPlan addresses;
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final Thread shutdownHook;
    private volatile TestbedState state;
    private volatile boolean closed;
    private volatile boolean nginxBackends;

    private Testbed(final Builder builder)
    {
        this.prefix = builder.prefix;
        this.backends = builder.backends;
        this.ecmp = builder.ecmp;
        this.management = builder.management;
        this.lbQueues = builder.lbQueues;
        this.addresses = new AddressPlan(managementOctet(prefix));
        this.shutdownHook = new Thread(this::closeQuietly, "testbed-" + prefix + "-cleanup");
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /** A fresh random run prefix: "sl" and four hex digits. */
    public static String randomPrefix()
    {
        return "sl" + HexFormat.of().toHexDigits((short)ThreadLocalRandom.current().nextInt()).toLowerCase();
    }

    public String prefix()
    {
        return prefix;
    }

    public int backendCount()
    {
        return backends;
    }

    public boolean ecmp()
    {
        return ecmp;
    }

    public AddressPlan addresses()
    {
        return addresses;
    }

    /** Logical node names: client, router, lb1, lb2, seg, be1..beN. */
    public List<String> nodes()
    {
        final List<String> nodes = new ArrayList<>(List.of(CLIENT, ROUTER, LB1, LB2, SEGMENT));
        for (int k = 1; k <= backends; k++)
        {
            nodes.add(backend(k));
        }
        return nodes;
    }

    public static String backend(final int k)
    {
        return "be" + k;
    }

    /** The namespace name of a logical node ("lb1" → "PREFIX-lb1"); full names pass through. */
    public String ns(final String node)
    {
        return node.startsWith(prefix + "-") ? node : prefix + "-" + node;
    }

    public List<String> namespaces()
    {
        return nodes().stream().map(this::ns).toList();
    }

    /**
     * Name of the interface in {@code node} that faces {@code peer}, e.g. {@code iface("lb1", "router")}
     * → "PREFIX-l1r"; {@code iface("seg", "be2")} → "PREFIX-sb2"; the bridge is {@code iface("seg", "seg")}.
     */
    public String iface(final String node, final String peer)
    {
        if (node.equals(SEGMENT) && peer.equals(SEGMENT))
        {
            return prefix + "-br";
        }
        return prefix + "-" + code(node) + code(peer);
    }

    /** The root-namespace end of the management link (present when built with management(true)). */
    public String managementLink()
    {
        return prefix + "-m";
    }

    public boolean hasManagement()
    {
        return management;
    }

    /** True when the backends' port 80 is served by nginx (false: by the built-in Java server). */
    public boolean nginxBackends()
    {
        return nginxBackends;
    }

    /** Runs a command inside a node's namespace and waits for it (30 s bound). */
    public Commands.Result exec(final String node, final String... command)
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns(node)));
        full.addAll(List.of(command));
        return Commands.run(full);
    }

    /** Like {@link #exec} but throws with the output when the command fails. */
    public Commands.Result execChecked(final String node, final String... command)
    {
        return exec(node, command).check();
    }

    /**
     * Starts a tracked child process inside a node's namespace, output appended to {@code log}
     * (or discarded when null). It is killed by {@link #close()}.
     */
    public Process spawn(final String node, final Path log, final List<String> command)
    {
        final List<String> full = new ArrayList<>();
        if (state != null && state.keep())
        {
            // a kept testbed outlives this JVM: its servers must not die with our session
            full.add("setsid");
        }
        full.addAll(List.of("ip", "netns", "exec", ns(node)));
        full.addAll(command);
        final ProcessBuilder builder = new ProcessBuilder(full);
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (log == null)
        {
            builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        }
        else
        {
            builder.redirectErrorStream(true);
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        try
        {
            final Process process = builder.start();
            processes.add(process);
            return process;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot start " + full + ": " + ex.getMessage(), ex);
        }
    }

    public Process spawn(final String node, final String... command)
    {
        return spawn(node, null, List.of(command));
    }

    /** Stops one spawned process: SIGTERM, then SIGKILL after {@code graceMs}. */
    public void stop(final Process process, final long graceMs)
    {
        stopProcess(process, graceMs);
        processes.remove(process);
    }

    /** This run's scratch directory (configs, logs); removed on close. */
    public Path runDir()
    {
        return TestbedState.runDir(prefix);
    }

    /**
     * The command that starts a small JVM (64 MiB heap, C1 only: helpers like the backend servers, which
     * must start fast and stay out of the way) running {@code mainClass} with this JVM's java and class path.
     */
    public static List<String> javaCommand(final String mainClass, final List<String> args)
    {
        return javaCommand(List.of("-Xmx64m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), mainClass, args);
    }

    /** The command that starts a JVM with {@code jvmOptions} running {@code mainClass} with this JVM's java and class path. */
    public static List<String> javaCommand(final List<String> jvmOptions, final String mainClass, final List<String> args)
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmOptions);
        cmd.addAll(inheritedJvmFlags());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /**
     * The flags every sluice JVM needs (native access, exports, opens): the {@code sluice.jvm.flags} system
     * property when the parent was given it, else the parent's own such flags (bin/sluice passes them from
     * lib/jvm.options), and native access at least.
     */
    static List<String> inheritedJvmFlags()
    {
        final String property = System.getProperty("sluice.jvm.flags");
        if (property != null && !property.isBlank())
        {
            return List.of(property.strip().split("\\s+"));
        }
        final List<String> flags = new ArrayList<>();
        for (final String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (arg.startsWith("--enable-native-access") || arg.startsWith("--add-exports") || arg.startsWith("--add-opens")
                || arg.startsWith("--sun-misc-unsafe-memory-access") || arg.startsWith("-Dio.netty."))
            {
                flags.add(arg);
            }
        }
        if (flags.stream().noneMatch(f -> f.startsWith("--enable-native-access")))
        {
            flags.add("--enable-native-access=ALL-UNNAMED");
        }
        return flags;
    }

    /** Waits until something accepts TCP connections on {@code address:port} as seen from {@code node}. */
    public void awaitTcp(final String node, final String address, final int port, final long timeoutMs)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        final boolean up = Netns.call(ns(node), () ->
        {
            long backoffMs = 10;
            while (System.nanoTime() < deadline)
            {
                try (Socket socket = new Socket())
                {
                    socket.connect(new InetSocketAddress(address, port), 500);
                    return true;
                }
                catch (final IOException ex)
                {
                    Thread.sleep(backoffMs);
                    backoffMs = Math.min(200, backoffMs * 2);
                }
            }
            return false;
        });
        if (!up)
        {
            throw new IllegalStateException("nothing listening on " + address + ":" + port + " in " + ns(node) + " after "
                + timeoutMs + " ms");
        }
    }

    /**
     * Leaves the testbed up after this JVM exits: marks the state file {@code keep} (the sweep
     * never removes it) and drops the shutdown hook. {@code Testbed.down(prefix)} removes it later.
     */
    public void detach() throws IOException
    {
        state = state.withKeep(true);
        state.write();
        closed = true;
        removeHook();
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        removeHook();
        final List<Process> toStop;
        synchronized (processes)
        {
            toStop = new ArrayList<>(processes);
            processes.clear();
        }
        for (final Process process : toStop)
        {
            process.destroy();
        }
        for (final Process process : toStop)
        {
            stopProcess(process, 2000);
        }
        teardown(state != null ? state : plannedState(false));
    }

    private void closeQuietly()
    {
        try
        {
            close();
        }
        catch (final RuntimeException ex)
        {
            LOG.log(Level.WARNING, "testbed " + prefix + " cleanup failed", ex);
        }
    }

    private void removeHook()
    {
        try
        {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (final IllegalStateException | IllegalArgumentException ignored)
        {
            // already running (we are the hook) or never registered
        }
    }

    /**
     * Removes every run whose owner process is dead and that was not kept on purpose. Returns the
     * prefixes removed. Live runs (a parallel test's, a running demo) and kept runs are left alone.
     */
    public static List<String> sweep()
    {
        final List<String> removed = new ArrayList<>();
        for (final TestbedState leftover : TestbedState.all())
        {
            if (!leftover.keep() && !leftover.ownerAlive())
            {
                LOG.log(Level.INFO, "removing testbed " + leftover.prefix() + " left by dead process " + leftover.ownerPid());
                teardown(leftover);
                removed.add(leftover.prefix());
            }
        }
        return removed;
    }

    /** Removes the run {@code prefix} recorded in its state file (for {@code testbed down}); false when unknown. */
    public static boolean down(final String prefix) throws IOException
    {
        final Path file = TestbedState.fileFor(prefix);
        if (!Files.exists(file))
        {
            return false;
        }
        teardown(TestbedState.read(file));
        return true;
    }

    /** Kills what runs in the recorded namespaces, deletes them, the root links, the run dir and the state file. */
    static void teardown(final TestbedState recorded)
    {
        final List<String> existing = existingNamespaces();
        final List<Long> pids = new ArrayList<>();
        for (final String ns : recorded.namespaces())
        {
            if (existing.contains(ns))
            {
                pids.addAll(namespacePids(ns));
            }
        }
        signal(pids, "TERM");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (pids.stream().anyMatch(Testbed::alive) && System.nanoTime() < deadline)
        {
            sleepQuietly(50);
        }
        signal(pids.stream().filter(Testbed::alive).toList(), "KILL");
        for (final String ns : recorded.namespaces())
        {
            if (existing.contains(ns))
            {
                Commands.run("ip", "netns", "del", ns);
            }
        }
        for (final String link : recorded.rootLinks())
        {
            if (Commands.run("ip", "link", "show", "dev", link).ok())
            {
                Commands.run("ip", "link", "del", "dev", link);
            }
        }
        deleteRecursively(TestbedState.runDir(recorded.prefix()));
        try
        {
            Files.deleteIfExists(TestbedState.fileFor(recorded.prefix()));
        }
        catch (final IOException ex)
        {
            LOG.log(Level.WARNING, "cannot delete state file of " + recorded.prefix(), ex);
        }
    }

    public static List<String> existingNamespaces()
    {
        final List<String> names = new ArrayList<>();
        for (final String line : Commands.run("ip", "netns", "list").output().split("\n"))
        {
            final String trimmed = line.strip();
            if (!trimmed.isEmpty())
            {
                names.add(trimmed.split("\\s+")[0]);
            }
        }
        return names;
    }

    /** Processes whose network namespace is {@code ns} (ip netns pids). */
    public static List<Long> namespacePids(final String ns)
    {
        final List<Long> pids = new ArrayList<>();
        final Commands.Result result = Commands.run("ip", "netns", "pids", ns);
        if (result.ok())
        {
            for (final String line : result.output().split("\\s+"))
            {
                if (line.matches("\\d+"))
                {
                    pids.add(Long.parseLong(line));
                }
            }
        }
        return pids;
    }

    private static void signal(final List<Long> pids, final String signal)
    {
        if (pids.isEmpty())
        {
            return;
        }
        final List<String> cmd = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(p -> cmd.add(Long.toString(p)));
        Commands.run(cmd);
    }

    private static boolean alive(final long pid)
    {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static void stopProcess(final Process process, final long graceMs)
    {
        try
        {
            process.destroy();
            if (!process.waitFor(graceMs, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                process.waitFor(2, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteRecursively(final Path dir)
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (var walk = Files.walk(dir))
        {
            for (final Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(p);
            }
        }
        catch (final IOException ex)
        {
            LOG.log(Level.WARNING, "cannot delete " + dir, ex);
        }
    }

    private TestbedState plannedState(final boolean keep)
    {
        final long pid = ProcessHandle.current().pid();
        return new TestbedState(prefix, pid, TestbedState.startTicks(pid), keep, backends, ecmp, management, namespaces(),
            management ? List.of(managementLink()) : List.of(), System.currentTimeMillis());
    }

    private static int managementOctet(final String prefix)
    {
        return Math.floorMod(prefix.hashCode(), 254) + 1;
    }

    private String code(final String node)
    {
        return switch (node)
        {
            case CLIENT -> "c";
            case ROUTER -> "r";
            case LB1 -> "l1";
            case LB2 -> "l2";
            case SEGMENT -> "s";
            case "host" -> "m";
            default ->
            {
                if (node.startsWith("be"))
                {
                    yield "b" + node.substring(2);
                }
                throw new IllegalArgumentException("unknown node " + node);
            }
        };
    }

    // ---------------------------------------------------------------------------------------------
    // creation

    private void create(final boolean keep, final boolean servers, final boolean nginx) throws IOException
    {
        sweep();
        if (Files.exists(TestbedState.fileFor(prefix)))
        {
            throw new IllegalStateException("a testbed with prefix " + prefix + " already exists (see testbed status)");
        }
        state = plannedState(keep);
        // the state file exists before the first namespace: a crash from here on is swept
        state.write();
        Files.createDirectories(runDir());
        if (!keep)
        {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        try
        {
            createNamespaces();
            createLinks();
            configureAddresses();
            configureRouting();
            if (management)
            {
                createManagementLink();
            }
            if (servers)
            {
                startBackendServers(nginx);
            }
        }
        catch (final RuntimeException | IOException ex)
        {
            close();
            throw ex;
        }
    }

    private void createNamespaces()
    {
        for (final String node : nodes())
        {
            Commands.check("ip", "netns", "add", ns(node));
            execChecked(node, "ip", "link", "set", "lo", "up");
            // no duplicate address detection: a tentative link-local address delays IPv6 neighbour
            // discovery for a second or two after creation, and nothing else uses these addresses
            execChecked(node, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                "net.ipv6.conf.default.dad_transmits=0");
        }
    }

    private void veth(final String a, final String b)
    {
        final List<String> cmd = new ArrayList<>(List.of("ip", "link", "add", iface(a, b), "netns", ns(a)));
        final boolean lbLink = a.equals(LB1) || a.equals(LB2) || b.equals(LB1) || b.equals(LB2);
        final List<String> queues = lbLink && lbQueues > 1
            ? List.of("numtxqueues", Integer.toString(lbQueues), "numrxqueues", Integer.toString(lbQueues)) : List.of();
        cmd.addAll(queues);
        cmd.addAll(List.of("type", "veth", "peer", "name", iface(b, a), "netns", ns(b)));
        cmd.addAll(queues);
        Commands.check(cmd.toArray(new String[0]));
    }

    /** Rx/tx queues the LB nodes' veths (router and segment links, both ends) were created with; 1 by default. */
    public int lbQueues()
    {
        return lbQueues;
    }

    /**
     * Sets the rx and tx queues in use on both ends of the veth between {@code node} and {@code peer} ({@code ethtool -L};
     * at most what the veth was created with: {@link Builder#lbQueues}, or the kernel's default allocation of one per
     * possible CPU when created without a count). A veth hands a frame to the peer's rx queue numbered like the tx queue
     * the sender picked (its XPS or flow hash), so an AF_XDP socket per queue sees a share of the flows.
     */
    public void setLinkQueues(final String node, final String peer, final int queues)
    {
        if (queues < 1)
        {
            throw new IllegalArgumentException("queues: " + queues + " is not >= 1");
        }
        final String count = Integer.toString(queues);
        execChecked(node, "ethtool", "-L", iface(node, peer), "rx", count, "tx", count);
        execChecked(peer, "ethtool", "-L", iface(peer, node), "rx", count, "tx", count);
    }

    /**
     * Turns GRO on or off at {@code peer}'s end of the veth between {@code node} and {@code peer} ({@code ethtool -K ...
     * gro}). A frame an XDP program in {@code node} redirects into that veth (XDP_REDIRECT, {@code veth_xdp_xmit})
     * reaches {@code peer} only when its end runs NAPI, which a veth does with GRO on or an XDP program of its own;
     * without, the kernel drops the frame. The XDP flow offload of an L4 node needs it on both of lb1's peers.
     */
    public void setPeerGro(final String node, final String peer, final boolean on)
    {
        execChecked(peer, "ethtool", "-K", iface(peer, node), "gro", on ? "on" : "off");
    }

    private void createLinks()
    {
        veth(CLIENT, ROUTER);
        veth(ROUTER, LB1);
        veth(ROUTER, LB2);
        final String bridge = iface(SEGMENT, SEGMENT);
        // STP off and no forward delay: ports forward at once; no multicast snooping so ND just works
        execChecked(SEGMENT, "ip", "link", "add", bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0",
            "mcast_snooping", "0");
        execChecked(SEGMENT, "ip", "link", "set", bridge, "up");
        final List<String> segmentPeers = new ArrayList<>(List.of(LB1, LB2));
        for (int k = 1; k <= backends; k++)
        {
            segmentPeers.add(backend(k));
        }
        for (final String peer : segmentPeers)
        {
            veth(peer, SEGMENT);
            execChecked(SEGMENT, "ip", "link", "set", iface(SEGMENT, peer), "master", bridge);
            execChecked(SEGMENT, "ip", "link", "set", iface(SEGMENT, peer), "up");
            txOff(SEGMENT, iface(SEGMENT, peer));
        }
        for (final String[] pair : List.of(new String[] {CLIENT, ROUTER}, new String[] {ROUTER, LB1},
            new String[] {ROUTER, LB2}))
        {
            for (int side = 0; side < 2; side++)
            {
                final String node = pair[side];
                final String peer = pair[1 - side];
                execChecked(node, "ip", "link", "set", iface(node, peer), "up");
                txOff(node, iface(node, peer));
            }
        }
        for (final String peer : segmentPeers)
        {
            execChecked(peer, "ip", "link", "set", iface(peer, SEGMENT), "up");
            txOff(peer, iface(peer, SEGMENT));
        }
    }

    /**
     * veth's TX checksum offload hands kernel-sent packets on with partial checksums, which an
     * AF_XDP reader (or an XDP program) then sees as wrong: off on every veth end, since packets
     * from any namespace may reach an LB node's AF_XDP socket unchanged.
     */
    private void txOff(final String node, final String ifName)
    {
        if (Commands.available("ethtool"))
        {
            execChecked(node, "ethtool", "-K", ifName, "tx", "off");
        }
        else
        {
            LOG.log(Level.WARNING, "ethtool missing: TX checksum offload left on for " + ifName);
        }
    }

    private void addr(final String node, final String ifName, final String cidr)
    {
        if (cidr.contains(":"))
        {
            // nodad: the address is usable at once instead of after duplicate address detection
            execChecked(node, "ip", "-6", "addr", "add", cidr, "dev", ifName, "nodad");
        }
        else
        {
            execChecked(node, "ip", "addr", "add", cidr, "dev", ifName);
        }
    }

    private void configureAddresses()
    {
        addr(CLIENT, iface(CLIENT, ROUTER), AddressPlan.CLIENT_V4 + "/24");
        addr(CLIENT, iface(CLIENT, ROUTER), AddressPlan.CLIENT_V6 + "/64");
        addr(ROUTER, iface(ROUTER, CLIENT), AddressPlan.ROUTER_CLIENT_V4 + "/24");
        addr(ROUTER, iface(ROUTER, CLIENT), AddressPlan.ROUTER_CLIENT_V6 + "/64");
        for (int n = 1; n <= 2; n++)
        {
            final String lb = "lb" + n;
            addr(ROUTER, iface(ROUTER, lb), AddressPlan.routerUplinkV4(n) + "/24");
            addr(ROUTER, iface(ROUTER, lb), AddressPlan.routerUplinkV6(n) + "/64");
            addr(lb, iface(lb, ROUTER), AddressPlan.lbUplinkV4(n) + "/24");
            addr(lb, iface(lb, ROUTER), AddressPlan.lbUplinkV6(n) + "/64");
            addr(lb, iface(lb, SEGMENT), AddressPlan.lbSegmentV4(n) + "/24");
            addr(lb, iface(lb, SEGMENT), AddressPlan.lbSegmentV6(n) + "/64");
        }
        for (int k = 1; k <= backends; k++)
        {
            addr(backend(k), iface(backend(k), SEGMENT), AddressPlan.backendV4(k) + "/24");
            addr(backend(k), iface(backend(k), SEGMENT), AddressPlan.backendV6(k) + "/64");
        }
    }

    private void configureRouting()
    {
        for (final String node : nodes())
        {
            execChecked(node, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
        }
        for (final String node : List.of(ROUTER, LB1, LB2))
        {
            execChecked(node, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        }
        // L4 hash (addresses, protocol, ports): one TCP/UDP flow stays on one LB node
        execChecked(ROUTER, "sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1", "net.ipv6.fib_multipath_hash_policy=1");

        execChecked(CLIENT, "ip", "route", "add", "default", "via", AddressPlan.ROUTER_CLIENT_V4);
        execChecked(CLIENT, "ip", "-6", "route", "add", "default", "via", AddressPlan.ROUTER_CLIENT_V6);
        if (ecmp)
        {
            execChecked(ROUTER, "ip", "route", "add", AddressPlan.VIP_V4 + "/32",
                "nexthop", "via", AddressPlan.lbUplinkV4(1), "nexthop", "via", AddressPlan.lbUplinkV4(2));
            execChecked(ROUTER, "ip", "-6", "route", "add", AddressPlan.VIP_V6 + "/128",
                "nexthop", "via", AddressPlan.lbUplinkV6(1), "nexthop", "via", AddressPlan.lbUplinkV6(2));
        }
        else
        {
            execChecked(ROUTER, "ip", "route", "add", AddressPlan.VIP_V4 + "/32", "via", AddressPlan.lbUplinkV4(1));
            execChecked(ROUTER, "ip", "-6", "route", "add", AddressPlan.VIP_V6 + "/128", "via", AddressPlan.lbUplinkV6(1));
        }
        // the backend segment itself is reached through lb1: direct and kernel-forwarding baselines
        execChecked(ROUTER, "ip", "route", "add", AddressPlan.SEGMENT_V4, "via", AddressPlan.lbUplinkV4(1));
        execChecked(ROUTER, "ip", "-6", "route", "add", AddressPlan.SEGMENT_V6, "via", AddressPlan.lbUplinkV6(1));
        for (int n = 1; n <= 2; n++)
        {
            execChecked("lb" + n, "ip", "route", "add", "default", "via", AddressPlan.routerUplinkV4(n));
            execChecked("lb" + n, "ip", "-6", "route", "add", "default", "via", AddressPlan.routerUplinkV6(n));
        }
        for (int k = 1; k <= backends; k++)
        {
            execChecked(backend(k), "ip", "route", "add", "default", "via", AddressPlan.lbSegmentV4(1));
            execChecked(backend(k), "ip", "-6", "route", "add", "default", "via", AddressPlan.lbSegmentV6(1));
        }
    }

    private void createManagementLink()
    {
        Commands.check("ip", "link", "add", managementLink(), "type", "veth", "peer", "name", iface(LB1, "host"),
            "netns", ns(LB1));
        Commands.check("ip", "addr", "add", addresses.managementHostV4() + "/30", "dev", managementLink());
        Commands.check("ip", "link", "set", managementLink(), "up");
        addr(LB1, iface(LB1, "host"), addresses.managementLbV4() + "/30");
        execChecked(LB1, "ip", "link", "set", iface(LB1, "host"), "up");
    }

    private void startBackendServers(final boolean nginx) throws IOException
    {
        nginxBackends = nginx && Commands.available("nginx");
        for (int k = 1; k <= backends; k++)
        {
            final String be = backend(k);
            final Path log = runDir().resolve(be + "-java.log");
            spawn(be, log, javaCommand("io.sluice.testbed.servers.BackendMain",
                List.of("--name", be, "--http", Integer.toString(BackendPorts.JAVA_HTTP), "--tcp-echo",
                    Integer.toString(BackendPorts.TCP_ECHO), "--udp-echo", Integer.toString(BackendPorts.UDP_ECHO))));
            final List<String> nginxCommand = nginxBackends ? BackendNginx.prepare(runDir(), be, backends) : List.of();
            if (nginxBackends)
            {
                spawn(be, runDir().resolve(be + "-nginx.log"), nginxCommand);
            }
            else
            {
                // no nginx: the built-in server also answers on the nginx port
                spawn(be, runDir().resolve(be + "-java80.log"), javaCommand("io.sluice.testbed.servers.HttpBackend",
                    List.of("--name", be, "--port", Integer.toString(BackendPorts.HTTP))));
            }
        }
        for (int k = 1; k <= backends; k++)
        {
            awaitTcp(backend(k), "127.0.0.1", BackendPorts.JAVA_HTTP, SERVER_READY_TIMEOUT_MS);
            awaitTcp(backend(k), "127.0.0.1", BackendPorts.HTTP, SERVER_READY_TIMEOUT_MS);
        }
    }

    /** Fluent construction; {@link #build()} creates everything or removes what it created and throws. */
    public static final class Builder
    {
        private String prefix = randomPrefix();
        private int backends = 2;
        private boolean ecmp;
        private boolean management;
        private boolean servers = true;
        private boolean nginx = true;
        private boolean keep;
        private int lbQueues = 1;

        private Builder()
        {
        }

        /** Run prefix: a lower-case letter then 1..8 letters or digits (interface names stay ≤ 15 chars). */
        public Builder prefix(final String value)
        {
            if (!PREFIX.matcher(value).matches())
            {
                throw new IllegalArgumentException("prefix: '" + value + "' must match " + PREFIX.pattern()
                    + " (at most " + MAX_PREFIX_LENGTH + " characters)");
            }
            this.prefix = value;
            return this;
        }

        public Builder backends(final int count)
        {
            if (count < 1 || count > AddressPlan.MAX_BACKENDS)
            {
                throw new IllegalArgumentException("backends: " + count + " is not in 1.." + AddressPlan.MAX_BACKENDS);
            }
            this.backends = count;
            return this;
        }

        /** Route the VIP over both LB nodes (ECMP, L4 hash) instead of lb1 only. */
        public Builder ecmp(final boolean value)
        {
            this.ecmp = value;
            return this;
        }

        /** Add a veth from the root namespace to lb1 (198.19.M.0/30) so the host reaches a node API. */
        public Builder management(final boolean value)
        {
            this.management = value;
            return this;
        }

        /**
         * Rx and tx queues of the LB nodes' veths (router ↔ lb1/lb2, lb1/lb2 ↔ segment, both ends); 1 by default.
         * A node with N forwarders needs N queues on every data interface.
         */
        public Builder lbQueues(final int count)
        {
            if (count < 1 || count > 64)
            {
                throw new IllegalArgumentException("lbQueues: " + count + " is not in 1..64");
            }
            this.lbQueues = count;
            return this;
        }

        /** Start the backend servers (HTTP, TCP echo, UDP echo); on by default. */
        public Builder servers(final boolean value)
        {
            this.servers = value;
            return this;
        }

        /** Serve HTTP port 80 on the backends with nginx when installed (default), else the built-in server. */
        public Builder nginx(final boolean value)
        {
            this.nginx = value;
            return this;
        }

        /** Mark the run kept from the start (servers then survive this JVM; see {@link Testbed#detach()}). */
        public Builder keep(final boolean value)
        {
            this.keep = value;
            return this;
        }

        public Testbed build() throws IOException
        {
            final Testbed testbed = new Testbed(this);
            testbed.create(keep, servers, nginx);
            return testbed;
        }
    }
}
