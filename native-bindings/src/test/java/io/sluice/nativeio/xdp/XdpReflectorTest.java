package io.sluice.nativeio.xdp;

import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.TestNetwork;
import io.sluice.nativeio.netlink.Netlink;
import org.agrona.concurrent.AgentRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** The reflector as a child JVM in a namespace: it reflects, reports, and leaves no program behind when killed. */
class XdpReflectorTest
{
    private static TestNetwork network;
    private static String nsR;
    private static String nsB;
    private static String ifR;
    private static String ifB;

    @TempDir
    Path temp;

    @BeforeAll
    static void setUp()
    {
        network = new TestNetwork();
        nsR = network.namespace("ra");
        nsB = network.namespace("rb");
        ifR = network.name("ra");
        ifB = network.name("rb");
        network.veth(nsR, ifR, nsB, ifB);
        network.ip(nsR, "addr", "add", "198.18.0.1/24", "dev", ifR);
        network.ip(nsB, "addr", "add", "198.18.0.2/24", "dev", ifB);
        final byte[] macR = NetNs.call(nsR, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                return netlink.link(ifR).mac();
            }
        });
        // The reflector takes every frame, ARP included: B needs a static entry.
        network.ip(nsB, "neigh", "add", "198.18.0.1", "lladdr", Netlink.formatMac(macR), "dev", ifB);
    }

    @AfterAll
    static void tearDown()
    {
        network.close();
    }

    private Process startReflector(final String... extra) throws Exception
    {
        final String java = ProcessHandle.current().info().command().orElse("java");
        final String classpath = location(XdpReflector.class) + File.pathSeparator + location(AgentRunner.class);
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", nsR, java));
        final String flags = System.getProperty("sluice.jvm.flags");
        command.addAll(flags != null && !flags.isBlank() ? List.of(flags.trim().split("\\s+"))
            : List.of("--enable-native-access=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"));
        command.addAll(List.of("-Xmx64m", "-cp", classpath, XdpReflector.class.getName(), "--ifname", ifR, "--queue", "0",
            "--mode", "copy"));
        command.addAll(List.of(extra));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(temp.resolve("reflector.log").toFile()).start();
    }

    private static String location(final Class<?> type) throws Exception
    {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private void awaitFile(final Path file, final Process process) throws Exception
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(file) && process.isAlive() && System.nanoTime() < deadline)
        {
            LockSupport.parkNanos(20_000_000);
        }
        assertThat(file).as("reflector log: " + readLog()).exists();
    }

    private String readLog()
    {
        try
        {
            return Files.readString(temp.resolve("reflector.log"));
        }
        catch (final java.io.IOException ex)
        {
            return "(no log)";
        }
    }

    private static boolean xdpAttached()
    {
        return TestNetwork.run("ip", "-n", nsR, "link", "show", "dev", ifR).contains("prog/xdp");
    }

    @Test
    void shouldReflectEveryFrameAndWriteStats() throws Exception
    {
        final Path ready = temp.resolve("ready");
        final Path stats = temp.resolve("stats.json");
        final Process reflector = startReflector("--swap-macs", "--ready-file", ready.toString(), "--stats-file", stats.toString());
        try
        {
            awaitFile(ready, reflector);
            // In batches of 100, each reflected before the next goes: a burst of 1000 can overflow the veth's 256-frame
            // XDP ring on a busy machine (veth_xmit drops), which would be the test's loss, not the reflector's.
            final long deadline = System.nanoTime() + 10_000_000_000L;
            try (DatagramChannel sender = NetNs.call(nsB, DatagramChannel::open))
            {
                for (int sent = 100; sent <= 1000; sent += 100)
                {
                    for (int i = 0; i < 100; i++)
                    {
                        sender.send(ByteBuffer.wrap(new byte[32]), new InetSocketAddress("198.18.0.1", 9));
                    }
                    while (rxPacketsOnB() < sent && System.nanoTime() < deadline)
                    {
                        LockSupport.parkNanos(5_000_000);
                    }
                }
            }
            assertThat(rxPacketsOnB()).as("B received the reflected frames").isGreaterThanOrEqualTo(1000);
            reflector.destroy();
            assertThat(reflector.waitFor(30, TimeUnit.SECONDS)).isTrue();
            final String json = Files.readString(stats);
            // B's kernel also sends the odd IPv6 router solicitation: at least our 1000, each reflected.
            assertThat(field(json, "rxPackets")).isGreaterThanOrEqualTo(1000);
            assertThat(field(json, "txPackets")).isEqualTo(field(json, "rxPackets"));
            assertThat(field(json, "txDropped")).isZero();
            assertThat(field(json, "cpuNs")).isPositive();
        }
        finally
        {
            reflector.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static long field(final String json, final String name)
    {
        final java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
        assertThat(matcher.find()).as(name + " in " + json).isTrue();
        return Long.parseLong(matcher.group(1));
    }

    private static long rxPacketsOnB()
    {
        // Not /sys/class/net: sysfs shows the namespace it was mounted in, not the calling thread's.
        final String json = TestNetwork.run("ip", "-n", nsB, "-s", "-j", "link", "show", "dev", ifB);
        final java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("\"rx\":\\{\"bytes\":\\d+,\"packets\":(\\d+)")
            .matcher(json);
        assertThat(matcher.find()).as(json).isTrue();
        return Long.parseLong(matcher.group(1));
    }

    @Test
    void shouldLeaveNoProgramOnInterfaceWhenAttachingJvmIsKilled() throws Exception
    {
        final Path ready = temp.resolve("ready-kill");
        final Process reflector = startReflector("--ready-file", ready.toString());
        try
        {
            awaitFile(ready, reflector);
            assertThat(xdpAttached()).as("attached while the JVM lives").isTrue();
            reflector.destroyForcibly();
            assertThat(reflector.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(reflector.exitValue()).as("killed by SIGKILL").isEqualTo(137);
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (xdpAttached() && System.nanoTime() < deadline)
            {
                LockSupport.parkNanos(20_000_000);
            }
            assertThat(xdpAttached()).as("the BPF link died with the process").isFalse();
        }
        finally
        {
            reflector.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
