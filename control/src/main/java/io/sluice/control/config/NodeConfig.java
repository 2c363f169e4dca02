package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.sluice.control.config.Schema.AddressSpec;
import io.sluice.control.config.Schema.BoolSpec;
import io.sluice.control.config.Schema.EnumSpec;
import io.sluice.control.config.Schema.Field;
import io.sluice.control.config.Schema.HostPortSpec;
import io.sluice.control.config.Schema.IntSpec;
import io.sluice.control.config.Schema.ListSpec;
import io.sluice.control.config.Schema.ObjectSpec;
import io.sluice.control.config.Schema.PathSpec;
import io.sluice.control.config.Schema.StringSpec;

import java.util.List;

/**
 * The {@code node} section: this machine's part of the cluster. Read at node start only.
 *
 * @param name                unique in the cluster.
 * @param interfaces          data interfaces the fastpath attaches to.
 * @param localAddresses      FullNAT source addresses this node owns.
 * @param forwarders          busy-polling forwarder threads.
 * @param sessionCapacity     L4 sessions the node can hold.
 * @param offloadSessions     L4 sessions the XDP flow offload can hold; 0: off.
 * @param drainTimeoutSeconds how long SIGTERM waits for flows to finish.
 * @param profile             the perf profile.
 * @param api                 where the REST API listens.
 * @param stateDir            journal, counters, token.
 * @param keyserver           the key server's shared-memory directory.
 * @param accessLog           whether the L7 proxy writes {@code <stateDir>/access.log}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeConfig(
    String name,
    List<InterfaceConfig> interfaces,
    List<String> localAddresses,
    int forwarders,
    long sessionCapacity,
    long offloadSessions,
    int drainTimeoutSeconds,
    ProfileName profile,
    ApiConfig api,
    String stateDir,
    String keyserver,
    boolean accessLog)
{
    static final String NAME_PATTERN = "[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?";
    static final String NAME_TEXT = "1..63 of a-z 0-9 - _ . (starting and ending with a letter or digit)";

    /**
     * One data interface.
     *
     * @param name the kernel's interface name.
     * @param mode how the fastpath attaches.
     */
    public record InterfaceConfig(String name, InterfaceMode mode)
    {
        static final Field<String> NAME = Field.required("name",
            StringSpec.matching("[A-Za-z0-9][-A-Za-z0-9_.@]{0,14}", "a kernel interface name (1..15 characters)"),
            "The interface name.");
        static final Field<InterfaceMode> MODE = Field.optional("mode", new EnumSpec<>(InterfaceMode.class), InterfaceMode.XDP,
            "xdp: native XDP + AF_XDP; xdp-generic: the kernel's generic XDP (any driver; slower than native on a NIC, "
                + "faster on a veth: docs/fastpath.md, \"Session 11\"); af-packet: no XDP at all.");
        public static final ObjectSpec<InterfaceConfig> SPEC = new ObjectSpec<>("interface", "A data interface.",
            v -> new InterfaceConfig(v.get(NAME), v.get(MODE)), NAME, MODE);
    }

    /**
     * The REST API.
     *
     * @param listen    ADDRESS:PORT.
     * @param tokenFile the bearer token; created 0600 with a random token on first start when missing.
     */
    public record ApiConfig(String listen, String tokenFile)
    {
        static final Field<String> LISTEN = Field.optional("listen", new HostPortSpec(), "127.0.0.1:9900",
            "Where the REST API, console, /metrics and /healthz listen.");
        static final Field<String> TOKEN_FILE = Field.derived("tokenFile", new PathSpec(), "<stateDir>/api.token",
            "The bearer token file; created (0600, random token) on first start when missing.");
        public static final ObjectSpec<ApiConfig> SPEC = new ObjectSpec<>("api", "The node's REST API.",
            v -> new ApiConfig(v.get(LISTEN), v.get(TOKEN_FILE)), LISTEN, TOKEN_FILE);
    }

    static final Field<String> NAME = Field.required("name", StringSpec.matching(NAME_PATTERN, NAME_TEXT),
        "The node's name, unique in the cluster.");
    static final Field<List<InterfaceConfig>> INTERFACES = Field.optional("interfaces",
        new ListSpec<>(InterfaceConfig.SPEC, 0, 16), List.of(),
        "Data interfaces the L4 fastpath attaches to; none: L4 listeners are not served (L7 still is).");
    static final Field<List<String>> LOCAL_ADDRESSES = Field.optional("localAddresses",
        new ListSpec<>(new AddressSpec(), 0, 64), List.of(),
        "FullNAT source addresses this node owns (added to the kernel when missing).");
    static final Field<Long> FORWARDERS = Field.optional("forwarders", IntSpec.range(1, 64), 1L,
        "Forwarder threads; forwarder i serves rx queue i. Must be the same on every node of a cluster.");
    static final Field<Long> SESSION_CAPACITY = Field.optional("sessionCapacity", IntSpec.range(1024, 100_000_000), 1_000_000L,
        "L4 sessions the node holds (memory: see docs/fastpath.md); at most "
        + io.sluice.fastpath.session.SessionTable.MAX_CAPACITY + " per forwarder.");
    static final Field<Long> OFFLOAD_SESSIONS = Field.optional("offloadSessions", IntSpec.range(0, 16_000_000), 0L,
        "L4 sessions whose ordinary frames the XDP program rewrites and forwards in the kernel, without a trip through"
        + " the forwarder (docs/fastpath.md, \"XDP flow offload\"): TCP and UDP listeners without synProxy, toa or a"
        + " bandwidth peak; about " + io.sluice.fastpath.FlowOffload.BYTES_PER_SESSION + " bytes of kernel memory each;"
        + " 0: off. xdp and xdp-generic interfaces only; a veth's peer needs GRO on (or an XDP program) to take redirected"
        + " frames.");
    static final Field<Long> DRAIN_TIMEOUT = Field.optional("drainTimeoutSeconds", IntSpec.range(0, 3600), 30L,
        "On SIGTERM, how long to keep serving established flows while refusing new ones.");
    static final Field<ProfileName> PROFILE = Field.optional("profile", new EnumSpec<>(ProfileName.class), ProfileName.BALANCED,
        "The perf profile (profiles/NAME.properties): idle strategy and thread pinning. --profile overrides it.");
    static final Field<ApiConfig> API = Field.derived("api", ApiConfig.SPEC, "listen 127.0.0.1:9900", "The REST API.");
    static final Field<String> STATE_DIR = Field.optional("stateDir", new PathSpec(), "/var/lib/sluice",
        "Journal, counters file and API token (created 0700 when missing).");
    static final Field<String> KEYSERVER = Field.optional("keyserver", new PathSpec(), "/dev/shm/sluice/keyserver",
        "The key server's shared-memory directory (its --shm).");
    static final Field<Boolean> ACCESS_LOG = Field.optional("accessLog", new BoolSpec(), true,
        "Write one JSON line per L7 request to <stateDir>/access.log (on a writer thread of its own, about 1 µs of CPU per"
        + " request); false: no access log.");

    public static final ObjectSpec<NodeConfig> SPEC = new ObjectSpec<>("node", "This machine's node; read at node start only.",
        NodeConfig::from, NAME, INTERFACES, LOCAL_ADDRESSES, FORWARDERS, SESSION_CAPACITY, OFFLOAD_SESSIONS, DRAIN_TIMEOUT, PROFILE, API,
        STATE_DIR, KEYSERVER, ACCESS_LOG);

    private static NodeConfig from(final Schema.Values v)
    {
        final String stateDir = v.get(STATE_DIR);
        final ApiConfig api = v.get(API) == null ? new ApiConfig(ApiConfig.LISTEN.defaultValue(), null) : v.get(API);
        final ApiConfig resolvedApi = api.tokenFile() != null ? api
            : new ApiConfig(api.listen(), stateDir.replaceAll("/+$", "") + "/api.token");
        // One forwarder's session table is a single off-heap buffer of at most 2 GiB (see docs/fastpath.md).
        final long perForwarder = io.sluice.fastpath.session.SessionTable.MAX_CAPACITY;
        if (v.get(SESSION_CAPACITY) > perForwarder * v.get(FORWARDERS))
        {
            v.reject(SESSION_CAPACITY, v.get(SESSION_CAPACITY) + " is more than " + perForwarder + " per forwarder allows with "
                + v.get(FORWARDERS) + " forwarders (at most " + perForwarder * v.get(FORWARDERS) + ")");
        }
        final List<InterfaceConfig> interfaces = v.get(INTERFACES);
        for (int i = 0; i < interfaces.size(); i++)
        {
            for (int j = 0; j < i; j++)
            {
                if (interfaces.get(i).name().equals(interfaces.get(j).name()))
                {
                    v.reject(INTERFACES, "interface \"" + interfaces.get(i).name() + "\" is listed twice");
                }
            }
        }
        return new NodeConfig(v.get(NAME), interfaces, v.get(LOCAL_ADDRESSES), v.get(FORWARDERS).intValue(),
            v.get(SESSION_CAPACITY), v.get(OFFLOAD_SESSIONS), v.get(DRAIN_TIMEOUT).intValue(), v.get(PROFILE), resolvedApi, stateDir,
            v.get(KEYSERVER), v.get(ACCESS_LOG));
    }
}
