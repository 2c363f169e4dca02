package io.sluice.control.demo;

import io.sluice.testbed.AddressPlan;

import java.nio.file.Path;
import java.util.List;

/**
 * The configuration the demo applies: one load balancer on the testbed's VIP with a TCP, a UDP, an HTTP and an HTTPS
 * listener over the testbed's backends; and the file each LB node starts from. {@code examples/demo.yaml} is the
 * load-balancer part for two backends ({@code DemoConfigTest} keeps the two equal).
 */
final class DemoConfig
{
    /** Port of the TCP listener; backends answer on their TCP echo server. */
    static final int TCP_PORT = 9000;
    /** Port of the UDP listener; backends answer on their UDP echo server. */
    static final int UDP_PORT = 5353;
    static final int HTTP_PORT = 80;
    static final int HTTPS_PORT = 443;
    /** The backends' echo servers (tcp and udp) and built-in HTTP server. */
    static final int BACKEND_ECHO_PORT = 7;
    static final int BACKEND_HTTP_PORT = 8080;
    /** Name of the demo certificate in the key server and the host name it is issued for. */
    static final String CERTIFICATE = "demo";
    static final String HOST_NAME = "demo.sluice.test";
    static final int API_PORT = 9900;

    private DemoConfig()
    {
    }

    /** The {@code loadBalancers} document (with its apiVersion) for {@code backends} backends. */
    static String loadBalancers(final int backends)
    {
        final StringBuilder echo = new StringBuilder();
        final StringBuilder http = new StringBuilder();
        for (int k = 1; k <= backends; k++)
        {
            echo.append(k == 1 ? "" : ", ").append("{address: ").append(AddressPlan.backendV4(k)).append(", port: ")
                .append(BACKEND_ECHO_PORT).append('}');
            http.append(k == 1 ? "" : ", ").append("{address: ").append(AddressPlan.backendV4(k)).append(", port: ")
                .append(BACKEND_HTTP_PORT).append('}');
        }
        return """
            apiVersion: sluice/v1
            # What `sluice demo` applies (for two backends): one load balancer on the testbed's VIP, four listeners.
            loadBalancers:
              - name: demo
                vip: %s
                listeners:
                  - {protocol: tcp, port: %d, serverGroup: echo, scheduler: rr,
                     healthCheck: {type: tcp, intervalSeconds: 1, healthyThreshold: 1}}
                  - {protocol: udp, port: %d, serverGroup: udp-echo, scheduler: rr, healthCheck: {enabled: false}}
                  - {protocol: http, port: %d, serverGroup: web, scheduler: rr,
                     healthCheck: {type: http, path: /health, intervalSeconds: 1, healthyThreshold: 1}}
                  - {protocol: https, port: %d, serverGroup: web, scheduler: rr, certificates: [%s],
                     healthCheck: {type: http, path: /health, intervalSeconds: 1, healthyThreshold: 1}}
                serverGroups:
                  - {name: echo, servers: [%s]}
                  - {name: udp-echo, servers: [%s]}
                  - {name: web, servers: [%s]}
            """.formatted(AddressPlan.VIP_V4, TCP_PORT, UDP_PORT, HTTP_PORT, HTTPS_PORT, CERTIFICATE, echo, echo, http);
    }

    /**
     * A node file: the node section for LB node {@code n} (1 or 2) and no load balancers; the demo applies those through
     * the node's API once it runs.
     *
     * @param interfaces the data interfaces (empty: L7 only, tcp/udp listeners not served).
     * @param apiListen  host:port of the node's API.
     */
    static String node(final int n, final List<String> interfaces, final String apiListen, final Path stateDir,
        final Path keyserverShm)
    {
        final StringBuilder ifaces = new StringBuilder("[");
        for (int i = 0; i < interfaces.size(); i++)
        {
            ifaces.append(i == 0 ? "" : ", ").append("{name: ").append(interfaces.get(i)).append(", mode: xdp}");
        }
        ifaces.append(']');
        return """
            apiVersion: sluice/v1
            node:
              name: lb%d
              interfaces: %s
              localAddresses: [%s]
              forwarders: 1
              sessionCapacity: 65536
              drainTimeoutSeconds: 1
              profile: shared
              api: {listen: "%s"}
              stateDir: %s
              keyserver: %s
            """.formatted(n, ifaces, AddressPlan.lbLocalV4(n), apiListen, stateDir, keyserverShm);
    }
}
