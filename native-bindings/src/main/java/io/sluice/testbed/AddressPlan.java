package io.sluice.testbed;

/**
 * The testbed's address plan. Only the benchmarking ranges are used: IPv4 198.18.0.0/15 (RFC 2544)
 * and IPv6 2001:2::/48 (RFC 5180); nothing is ever routed towards a real interface.
 *
 * <pre>
 *  net                      IPv4               IPv6                  hosts
 *  VIP (routed, not on-link) 198.18.0.100/32   2001:2:0:100::100/128 routed by the router to lb1 (or ECMP lb1+lb2)
 *  client net               198.18.1.0/24      2001:2:0:1::/64       router .1 / ::1, client .2 / ::2
 *  router - lb1             198.18.2.0/24      2001:2:0:2::/64       router .1 / ::1, lb1 .2 / ::2
 *  router - lb2             198.18.3.0/24      2001:2:0:3::/64       router .1 / ::1, lb2 .2 / ::2
 *  backend segment (bridge) 198.18.10.0/24     2001:2:0:10::/64      beK .(1+K) / ::(1+K), lb1 .251 / ::251, lb2 .252 / ::252
 *  node local (SNAT) addrs  198.18.10.201-.209 2001:2:0:10::201-209  reserved for the nodes (lb1 .201, lb2 .202), not assigned
 *  management (optional)    198.19.M.0/30      -                     root .1, lb1 .2 (M derived from the run prefix)
 * </pre>
 * Backends' default route points at lb1's segment address, so kernel forwarding and DNAT baselines
 * see the return traffic; FullNAT subjects answer from their local addresses on the segment.
 */
public final class AddressPlan
{
    public static final String VIP_V4 = "198.18.0.100";
    public static final String VIP_V6 = "2001:2:0:100::100";
    public static final String CLIENT_V4 = "198.18.1.2";
    public static final String CLIENT_V6 = "2001:2:0:1::2";
    public static final String ROUTER_CLIENT_V4 = "198.18.1.1";
    public static final String ROUTER_CLIENT_V6 = "2001:2:0:1::1";
    public static final String SEGMENT_V4 = "198.18.10.0/24";
    public static final String SEGMENT_V6 = "2001:2:0:10::/64";
    public static final int MAX_BACKENDS = 99;

    private final int managementOctet;

    AddressPlan(final int managementOctet)
    {
        this.managementOctet = managementOctet;
    }

    /** Router's address on the link to lb{@code n} (n = 1 or 2). */
    public static String routerUplinkV4(final int n)
    {
        return "198.18." + (1 + n) + ".1";
    }

    public static String routerUplinkV6(final int n)
    {
        return "2001:2:0:" + (1 + n) + "::1";
    }

    /** lb{@code n}'s address on its link to the router. */
    public static String lbUplinkV4(final int n)
    {
        return "198.18." + (1 + n) + ".2";
    }

    public static String lbUplinkV6(final int n)
    {
        return "2001:2:0:" + (1 + n) + "::2";
    }

    /** lb{@code n}'s address on the backend segment. */
    public static String lbSegmentV4(final int n)
    {
        return "198.18.10." + (250 + n);
    }

    public static String lbSegmentV6(final int n)
    {
        return "2001:2:0:10::" + (250 + n);
    }

    /** Reserved FullNAT local address of lb{@code n} (the node adds it itself). */
    public static String lbLocalV4(final int n)
    {
        return "198.18.10." + (200 + n);
    }

    public static String lbLocalV6(final int n)
    {
        return "2001:2:0:10::" + (200 + n);
    }

    /** be{@code k}'s address on the backend segment (k from 1). */
    public static String backendV4(final int k)
    {
        return "198.18.10." + (1 + k);
    }

    public static String backendV6(final int k)
    {
        return "2001:2:0:10::" + (1 + k);
    }

    /** Root-namespace end of the management link. */
    public String managementHostV4()
    {
        return "198.19." + managementOctet + ".1";
    }

    /** lb1's end of the management link: a node API listening here is reachable from the host. */
    public String managementLbV4()
    {
        return "198.19." + managementOctet + ".2";
    }
}
