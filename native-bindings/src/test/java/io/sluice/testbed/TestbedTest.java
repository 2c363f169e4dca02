package io.sluice.testbed;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class TestbedTest
{
    @Test
    void shouldLeaveNoNamespacesLinksOrStateAfterClose() throws Exception
    {
        final String prefix = TestPrefixes.of('a');
        final List<String> namespaces;
        try (Testbed testbed = Testbed.builder().prefix(prefix).backends(3).management(true).servers(false).build())
        {
            namespaces = testbed.namespaces();
            assertThat(Testbed.existingNamespaces()).containsAll(namespaces);
            assertThat(Commands.run("ip", "link", "show", "dev", testbed.managementLink()).ok()).isTrue();
            assertThat(Files.exists(TestbedState.fileFor(prefix))).isTrue();
            for (final String node : testbed.nodes())
            {
                final List<String> names = linkNames(testbed.execChecked(node, "ip", "-o", "link").output());
                assertThat(names).contains("lo");
                for (final String name : names)
                {
                    assertThat(name.length()).isLessThanOrEqualTo(15);
                    assertThat(name.equals("lo") || name.startsWith(prefix + "-")).as(name).isTrue();
                }
            }
        }
        assertThat(Testbed.existingNamespaces()).doesNotContainAnyElementsOf(namespaces);
        assertThat(Commands.run("ip", "-o", "link").output()).doesNotContain(prefix);
        assertThat(Files.exists(TestbedState.fileFor(prefix))).isFalse();
        assertThat(Files.exists(TestbedState.runDir(prefix))).isFalse();
    }

    @Test
    void shouldCreateTheLbLinksWithTheQueuesAskedForAndSwitchThemLive() throws Exception
    {
        final String prefix = "fq" + Long.toHexString(ProcessHandle.current().pid()) + "q";
        try (Testbed testbed = Testbed.builder().prefix(prefix).backends(1).lbQueues(2).servers(false).build())
        {
            assertThat(testbed.lbQueues()).isEqualTo(2);
            for (final String[] link : List.of(new String[] {Testbed.LB1, Testbed.ROUTER}, new String[] {Testbed.ROUTER, Testbed.LB1},
                new String[] {Testbed.LB1, Testbed.SEGMENT}, new String[] {Testbed.SEGMENT, Testbed.LB2}))
            {
                assertThat(queuesInUse(testbed, link[0], link[1])).as(link[0] + " → " + link[1]).containsExactly(2, 2);
            }
            assertThat(queuesInUse(testbed, Testbed.CLIENT, Testbed.ROUTER)).as("not an LB link").containsExactly(1, 1);
            testbed.setLinkQueues(Testbed.LB1, Testbed.ROUTER, 1);
            assertThat(queuesInUse(testbed, Testbed.LB1, Testbed.ROUTER)).containsExactly(1, 1);
            assertThat(queuesInUse(testbed, Testbed.ROUTER, Testbed.LB1)).containsExactly(1, 1);
        }
    }

    /** {rx, tx} queues in use on {@code node}'s end of its veth to {@code peer} (ethtool -l, current settings). */
    private static List<Integer> queuesInUse(final Testbed testbed, final String node, final String peer)
    {
        final String output = testbed.execChecked(node, "ethtool", "-l", testbed.iface(node, peer)).output();
        final String current = output.substring(output.indexOf("Current hardware settings:"));
        final Matcher rx = Pattern.compile("RX:\\s+(\\d+)").matcher(current);
        final Matcher tx = Pattern.compile("TX:\\s+(\\d+)").matcher(current);
        assertThat(rx.find() && tx.find()).as(output).isTrue();
        return List.of(Integer.parseInt(rx.group(1)), Integer.parseInt(tx.group(1)));
    }

    @Test
    void shouldReadLinkNamesFromIpOutputWithPeersAndItsErrorLines()
    {
        // ip -o link, stdout and stderr merged as Commands returns them: a veth whose peer is in another namespace
        // (name@ifN), one whose peer is here (name@peer), an altname, and the error ip prints (exit 0) when a namespace
        // some other process deletes vanishes while ip maps link-netnsids to names (a 32-character "name" once)
        final String output = """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    \
            link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            Error: Peer netns reference is invalid.
            2: ta1f-lb1-rtr@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \
            qlen 1000\\    link/ether 02:00:00:00:01:10 brd ff:ff:ff:ff:ff:ff link-netns ta1f-router\\    altname ta1f-alt
            4: ta1f-x@ta1f-y: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    \
            link/ether 02:00:00:00:01:11 brd ff:ff:ff:ff:ff:ff
            """;

        assertThat(linkNames(output)).containsExactly("lo", "ta1f-lb1-rtr", "ta1f-x");
    }

    /**
     * The link names in {@code ip -o link} output ({@code INDEX: NAME[@PEER]: <FLAGS> ...} per link); other lines are
     * ip's messages on stderr, which {@link Commands} merges into the output.
     */
    private static List<String> linkNames(final String ipOLinkOutput)
    {
        final Pattern link = Pattern.compile("^\\d+: ([^:@\\s]+)(?:@[^:\\s]+)?: <");
        final List<String> names = new ArrayList<>();
        for (final String line : ipOLinkOutput.split("\n"))
        {
            final Matcher m = link.matcher(line);
            if (m.find())
            {
                names.add(m.group(1));
            }
        }
        return names;
    }

    @Test
    void shouldRouteClientTrafficForVipThroughRouterToLbAndReachBackends() throws Exception
    {
        try (Testbed testbed = Testbed.builder().prefix(TestPrefixes.of('b')).backends(2).build())
        {
            testbed.execChecked("lb1", "ip", "addr", "add", AddressPlan.VIP_V4 + "/32", "dev", "lo");
            testbed.execChecked("lb1", "ip", "-6", "addr", "add", AddressPlan.VIP_V6 + "/128", "dev", "lo");

            assertThat(acceptOnce(testbed, "lb1", AddressPlan.VIP_V4)).isEqualTo(AddressPlan.CLIENT_V4);
            assertThat(acceptOnce(testbed, "lb1", AddressPlan.VIP_V6)).isEqualTo(AddressPlan.CLIENT_V6);

            final String echoed = Netns.call(testbed.ns("client"), () -> udpEcho(AddressPlan.backendV4(2), "hello"));
            assertThat(echoed).isEqualTo("hello");
            final String echoed6 = Netns.call(testbed.ns("client"), () -> udpEcho(AddressPlan.backendV6(1), "hello6"));
            assertThat(echoed6).isEqualTo("hello6");

            final String tcpEchoed = Netns.call(testbed.ns("client"), () -> tcpEcho(AddressPlan.backendV4(1), "ping"));
            assertThat(tcpEchoed).isEqualTo("ping");

            final String response = Netns.call(testbed.ns("client"),
                () -> httpGet(AddressPlan.backendV4(2), BackendPorts.HTTP, "/echo", "X-Probe: 42"));
            assertThat(response).startsWith("HTTP/1.1 200").contains("X-Backend: be2").containsIgnoringCase("X-Probe: 42");
            final String fixed = Netns.call(testbed.ns("client"),
                () -> httpGet(AddressPlan.backendV4(1), BackendPorts.JAVA_HTTP, "/bytes/1024", "X-Probe: 1"));
            assertThat(fixed).startsWith("HTTP/1.1 200").containsIgnoringCase("Content-length: 1024");
        }
    }

    @Test
    void shouldSpreadFlowsOverBothLbNodesWithEcmpAndReachLb1FromHost() throws Exception
    {
        try (Testbed testbed = Testbed.builder().prefix(TestPrefixes.of('c')).backends(1).ecmp(true).management(true)
            .servers(false).build())
        {
            final Set<String> seenBy = new HashSet<>();
            final AtomicInteger accepted = new AtomicInteger();
            final List<ServerSocket> listeners = new java.util.ArrayList<>();
            for (final String lb : List.of("lb1", "lb2"))
            {
                testbed.execChecked(lb, "ip", "addr", "add", AddressPlan.VIP_V4 + "/32", "dev", "lo");
                final ServerSocket server = Netns.call(testbed.ns(lb), () -> new ServerSocket(9000, 128,
                    InetAddress.getByName(AddressPlan.VIP_V4)));
                listeners.add(server);
                Thread.ofVirtual().start(() ->
                {
                    while (!server.isClosed())
                    {
                        try (Socket socket = server.accept())
                        {
                            synchronized (seenBy)
                            {
                                seenBy.add(socket.getLocalAddress().isAnyLocalAddress() ? "?" : lb);
                            }
                            accepted.incrementAndGet();
                        }
                        catch (final java.io.IOException ignored)
                        {
                            // closed at the end of the test
                        }
                    }
                });
            }
            final int flows = 32;
            Netns.call(testbed.ns("client"), () ->
            {
                for (int i = 0; i < flows; i++)
                {
                    try (Socket socket = new Socket())
                    {
                        socket.connect(new InetSocketAddress(AddressPlan.VIP_V4, 9000), 2000);
                    }
                }
                return null;
            });
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (accepted.get() < flows && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            for (final ServerSocket server : listeners)
            {
                server.close();
            }
            assertThat(accepted.get()).isEqualTo(flows);
            // 32 flows with distinct source ports under an L4 hash: both nodes see some (miss chance 2^-31)
            assertThat(seenBy).containsExactlyInAnyOrder("lb1", "lb2");

            final ServerSocket api = Netns.call(testbed.ns("lb1"), () -> new ServerSocket(9900, 16,
                InetAddress.getByName(testbed.addresses().managementLbV4())));
            try (api; Socket fromHost = new Socket())
            {
                fromHost.connect(new InetSocketAddress(testbed.addresses().managementLbV4(), 9900), 2000);
                assertThat(fromHost.isConnected()).isTrue();
            }
        }
    }

    private static String acceptOnce(final Testbed testbed, final String node, final String address) throws Exception
    {
        try (ServerSocket server = Netns.call(testbed.ns(node), () -> new ServerSocket(9000, 16, InetAddress.getByName(address))))
        {
            Netns.call(testbed.ns("client"), () ->
            {
                try (Socket socket = new Socket())
                {
                    socket.connect(new InetSocketAddress(address, 9000), 2000);
                }
                return null;
            });
            server.setSoTimeout(5000);
            try (Socket accepted = server.accept())
            {
                return ((InetSocketAddress)accepted.getRemoteSocketAddress()).getAddress().getHostAddress()
                    .replace("0:0:0:0:0:0:0:", "::").replace("2001:2:0:1:0:0:0:2", AddressPlan.CLIENT_V6);
            }
        }
    }

    private static String udpEcho(final String address, final String text) throws Exception
    {
        try (DatagramSocket socket = new DatagramSocket())
        {
            socket.setSoTimeout(500);
            final byte[] payload = text.getBytes(StandardCharsets.UTF_8);
            // UDP may be lost while neighbours resolve: retry a few times within a bound
            for (int attempt = 0; attempt < 20; attempt++)
            {
                socket.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(address, BackendPorts.UDP_ECHO)));
                final DatagramPacket reply = new DatagramPacket(new byte[1500], 1500);
                try
                {
                    socket.receive(reply);
                    return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
                }
                catch (final java.net.SocketTimeoutException ignored)
                {
                    // try again
                }
            }
            return null;
        }
    }

    private static String tcpEcho(final String address, final String text) throws Exception
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress(address, BackendPorts.TCP_ECHO), 2000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            final byte[] reply = socket.getInputStream().readNBytes(text.length());
            return new String(reply, StandardCharsets.UTF_8);
        }
    }

    private static String httpGet(final String address, final int port, final String path, final String header) throws Exception
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress(address, port), 2000);
            socket.setSoTimeout(5000);
            final OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: test\r\n" + header + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final StringBuilder response = new StringBuilder();
            final BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null)
            {
                response.append(line).append('\n');
            }
            return response.toString();
        }
    }
}
