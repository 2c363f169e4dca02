package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.sluice.control.config.Schema.AddressSpec;
import io.sluice.control.config.Schema.Field;
import io.sluice.control.config.Schema.IntSpec;
import io.sluice.control.config.Schema.ListSpec;
import io.sluice.control.config.Schema.ObjectSpec;
import io.sluice.control.config.Schema.PathSpec;
import io.sluice.control.config.Schema.StringSpec;

import java.util.List;

/**
 * The optional {@code cluster} section: session-sync peers and failover. Read at node start only.
 *
 * @param peers           session-sync peers.
 * @param syncPort        UDP port of the sync protocol.
 * @param keyFile         the shared key authenticating sync datagrams.
 * @param backupFor       nodes whose local addresses this node takes over when they die.
 * @param heartbeatMillis heartbeat period.
 * @param deadAfterMillis silence after which a peer is dead.
 * @param etcd            shared config store for many nodes, or null.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterConfig(
    List<String> peers,
    int syncPort,
    String keyFile,
    List<String> backupFor,
    int heartbeatMillis,
    int deadAfterMillis,
    EtcdConfig etcd)
{
    /**
     * Shared config in etcd.
     *
     * @param endpoints etcd client URLs.
     * @param prefix    key prefix of this cluster's config.
     */
    public record EtcdConfig(List<String> endpoints, String prefix)
    {
        static final Field<List<String>> ENDPOINTS = Field.required("endpoints",
            new ListSpec<>(StringSpec.matching("https?://[^\\s/]+(:\\d{1,5})?/?", "an http(s)://HOST:PORT URL"), 1, 16),
            "etcd client URLs.");
        static final Field<String> PREFIX = Field.optional("prefix",
            StringSpec.matching("/[-A-Za-z0-9_./]*", "a key prefix starting with /"), "/sluice", "Key prefix of this cluster.");
        public static final ObjectSpec<EtcdConfig> SPEC = new ObjectSpec<>("etcd", "Config shared by many nodes.",
            v -> new EtcdConfig(v.get(ENDPOINTS), v.get(PREFIX)), ENDPOINTS, PREFIX);
    }

    static final Field<List<String>> PEERS = Field.optional("peers", new ListSpec<>(new AddressSpec(), 0, 32), List.of(),
        "Session-sync peers (their sync addresses).");
    static final Field<Long> SYNC_PORT = Field.optional("syncPort", IntSpec.range(1, 65535), 8848L,
        "UDP port of the session-sync protocol.");
    static final Field<String> KEY_FILE = Field.optional("keyFile", new PathSpec(), null,
        "Shared key that authenticates sync datagrams, readable by its owner only (0600); required when peers are given.");
    static final Field<List<String>> BACKUP_FOR = Field.optional("backupFor",
        new ListSpec<>(StringSpec.matching(NodeConfig.NAME_PATTERN, "a node name"), 0, 32), List.of(),
        "Nodes whose localAddresses this node takes over (and announces) when they die.");
    static final Field<Long> HEARTBEAT = Field.optional("heartbeatMillis", IntSpec.range(10, 10_000), 100L,
        "Heartbeat period between peers.");
    static final Field<Long> DEAD_AFTER = Field.optional("deadAfterMillis", IntSpec.range(20, 60_000), 500L,
        "Silence after which a peer is declared dead; at least twice heartbeatMillis.");
    static final Field<EtcdConfig> ETCD = Field.optional("etcd", EtcdConfig.SPEC, null,
        "Config shared by many nodes in etcd (else each node keeps its own journal).");

    public static final ObjectSpec<ClusterConfig> SPEC = new ObjectSpec<>("cluster",
        "Session sync and failover between nodes; read at node start only.", ClusterConfig::from,
        PEERS, SYNC_PORT, KEY_FILE, BACKUP_FOR, HEARTBEAT, DEAD_AFTER, ETCD);

    private static ClusterConfig from(final Schema.Values v)
    {
        if (!v.get(PEERS).isEmpty() && v.get(KEY_FILE) == null)
        {
            v.reject(KEY_FILE, "is required when peers are given (sync datagrams must be authenticated)");
        }
        if (v.get(DEAD_AFTER) < 2 * v.get(HEARTBEAT))
        {
            v.reject(DEAD_AFTER, v.get(DEAD_AFTER) + " is less than twice heartbeatMillis (" + v.get(HEARTBEAT) + ")");
        }
        return new ClusterConfig(v.get(PEERS), v.get(SYNC_PORT).intValue(), v.get(KEY_FILE), v.get(BACKUP_FOR),
            v.get(HEARTBEAT).intValue(), v.get(DEAD_AFTER).intValue(), v.get(ETCD));
    }
}
