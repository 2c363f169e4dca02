package io.sluice.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.control.config.ConfigDiff;
import io.sluice.control.config.ConfigException;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.Listener;
import io.sluice.control.config.SluiceConfig;
import io.sluice.control.journal.ConfigJournal;
import io.sluice.control.node.ConfigService;
import io.sluice.control.usage.UsageJournal;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The node's REST API (JSON; YAML accepted in request bodies). Everything under {@code /v1} needs the bearer token;
 * {@code /healthz}, {@code /metrics} and {@code /openapi.json} are open. Changes take {@code If-Match: "VERSION"} for
 * optimistic concurrency and answer with the new version in {@code ETag}. The paths are documented in
 * {@code openapi.json} beside this class, which a test checks against the running server.
 */
public final class ApiServer implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(ApiServer.class.getName());
    /** A failed authentication is answered this late, so guessing tokens is slow. */
    private static final long AUTH_FAILURE_DELAY_MS = 250;
    private static final int MAX_BODY_BYTES = 16 << 20;
    private static final ObjectMapper JSON = ConfigLoader.jsonWriter();

    /** What /healthz reports. */
    public interface Readiness
    {
        /** Reasons the node is not ready; empty when it is. */
        List<String> notReadyReasons();

        /** Extra detail for /healthz (components, listeners). */
        ObjectNode detail();
    }

    /** Per-server health for /v1/health. */
    public interface HealthView
    {
        /** One object per (load balancer, listener, server). */
        ArrayNode states();
    }

    static
    {
        // Bound how long a client may take to send a request and to read an answer, so slow clients cannot hold the
        // server's few threads (the JDK server has no limit by default). Seconds; an operator's -D setting wins.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null)
        {
            System.setProperty("sun.net.httpserver.maxReqTime", "30");
        }
        if (System.getProperty("sun.net.httpserver.maxRspTime") == null)
        {
            System.setProperty("sun.net.httpserver.maxRspTime", "60");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final ApiToken token;
    private final ConfigService config;
    private final MetricsExporter metrics;
    private final Readiness readiness;
    private final HealthView health;
    private final AtomicCounter requests;
    private final AtomicCounter authFailures;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r ->
    {
        final Thread thread = new Thread(r, "sluice-api-timers");
        thread.setDaemon(true);
        return thread;
    });
    private final Supplier<String> nodeName;
    private final UsageJournal usage;

    public ApiServer(final InetSocketAddress listen, final ApiToken token, final ConfigService config, final MetricsExporter metrics,
        final Readiness readiness, final HealthView health, final AtomicCounter requests, final AtomicCounter authFailures,
        final Supplier<String> nodeName, final UsageJournal usage) throws IOException
    {
        this.usage = usage;
        this.token = token;
        this.config = config;
        this.metrics = metrics;
        this.readiness = readiness;
        this.health = health;
        this.requests = requests;
        this.authFailures = authFailures;
        this.nodeName = nodeName;
        this.server = HttpServer.create(listen, 64);
        // A small pool: a slowed authentication failure must not stall other callers.
        this.executor = Executors.newFixedThreadPool(4, r ->
        {
            final Thread thread = new Thread(r, "sluice-api");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    public void start()
    {
        server.start();
    }

    public InetSocketAddress address()
    {
        return server.getAddress();
    }

    private void handle(final HttpExchange exchange) throws IOException
    {
        requests.incrementRelease();
        boolean deferred = false;
        // Not try-with-resources: the exchange must still be open in the catch blocks that answer with an error.
        try
        {
            final String path = exchange.getRequestURI().getPath();
            final String method = exchange.getRequestMethod();
            switch (path)
            {
                case "/healthz" -> healthz(exchange);
                case "/metrics" -> metrics(exchange);
                case "/openapi.json" -> openapi(exchange);
                default ->
                {
                    if (!token.matches(exchange.getRequestHeaders().getFirst("Authorization")))
                    {
                        // Answered late from the timer thread, never by parking a worker: guessing stays slow while
                        // /healthz and real clients keep their threads.
                        authFailures.incrementRelease();
                        deferred = true;
                        scheduler.schedule(() -> refuse(exchange), AUTH_FAILURE_DELAY_MS, TimeUnit.MILLISECONDS);
                        return;
                    }
                    route(exchange, method, path);
                }
            }
        }
        catch (final ApiError ex)
        {
            error(exchange, ex.status, ex.getMessage());
        }
        catch (final ConfigException ex)
        {
            final ObjectNode body = JSON.createObjectNode().put("error", "invalid config, nothing applied");
            final ArrayNode errors = body.putArray("errors");
            ex.errors().forEach(errors::add);
            send(exchange, 400, body);
        }
        catch (final ConfigService.VersionConflictException ex)
        {
            error(exchange, 412, ex.getMessage());
        }
        catch (final ConfigService.ApplyFailedException ex)
        {
            error(exchange, 409, ex.getMessage());
        }
        catch (final RuntimeException ex)
        {
            LOG.log(System.Logger.Level.ERROR, "API " + exchange.getRequestMethod() + " " + exchange.getRequestURI(), ex);
            error(exchange, 500, "internal error: " + ex);
        }
        finally
        {
            if (!deferred)
            {
                exchange.close();
            }
        }
    }

    private void refuse(final HttpExchange exchange)
    {
        try (exchange)
        {
            exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
            error(exchange, 401, "missing or wrong bearer token");
        }
        catch (final IOException ex)
        {
            LOG.log(System.Logger.Level.DEBUG, "refusing " + exchange.getRemoteAddress() + ": " + ex.getMessage());
        }
    }

    private void route(final HttpExchange exchange, final String method, final String path) throws IOException
    {
        final List<String> p = segments(path);
        if (p.size() < 2 || !"v1".equals(p.get(0)))
        {
            throw new ApiError(404, "no such resource: " + path);
        }
        switch (p.get(1))
        {
            case "config" -> configResource(exchange, method, p);
            case "loadbalancers" -> loadBalancers(exchange, method, p);
            case "certificates" -> certificates(exchange, method, p);
            case "history" ->
            {
                requireMethod(method, "GET");
                history(exchange);
            }
            case "usage" ->
            {
                requireMethod(method, "GET");
                usage(exchange);
            }
            case "health" ->
            {
                requireMethod(method, "GET");
                send(exchange, 200, health.states());
            }
            default -> throw new ApiError(404, "no such resource: " + path);
        }
    }

    private void configResource(final HttpExchange exchange, final String method, final List<String> p) throws IOException
    {
        if (p.size() != 2)
        {
            throw new ApiError(404, "no such resource");
        }
        if ("GET".equals(method))
        {
            final ConfigService.Snapshot snapshot = config.snapshot();
            final ObjectNode body = JSON.createObjectNode();
            body.put("apiVersion", SluiceConfig.API_VERSION);
            body.put("version", snapshot.version());
            body.set("loadBalancers", JSON.valueToTree(snapshot.config().loadBalancers()));
            send(exchange, 200, body, snapshot.version());
            return;
        }
        requireMethod(method, "PUT");
        final JsonNode body = body(exchange);
        if (!body.isObject())
        {
            throw new ApiError(400, "expected an object with apiVersion and loadBalancers");
        }
        final JsonNode apiVersion = body.get("apiVersion");
        if (apiVersion != null && !SluiceConfig.API_VERSION.equals(apiVersion.asText()))
        {
            throw new ConfigException("request", List.of("apiVersion: " + apiVersion + " is not sluice/v1"));
        }
        final List<String> errors = new ArrayList<>();
        body.fieldNames().forEachRemaining(key ->
        {
            if (!List.of("apiVersion", "loadBalancers", "node", "cluster").contains(key))
            {
                errors.add(key + ": unknown key (allowed: apiVersion, loadBalancers; node and cluster are read at node start only)");
            }
        });
        if (!body.has("loadBalancers"))
        {
            errors.add("loadBalancers: is required (send [] to delete every load balancer)");
        }
        if (!errors.isEmpty())
        {
            throw new ConfigException("request", errors);
        }
        final JsonNode lbs = body.get("loadBalancers");
        changed(exchange, config.apply(lbs, ifMatch(exchange), user(exchange), "PUT /v1/config"));
    }

    private void loadBalancers(final HttpExchange exchange, final String method, final List<String> p) throws IOException
    {
        final String action = method + " " + exchange.getRequestURI().getPath();
        if (p.size() == 2)
        {
            requireMethod(method, "GET");
            send(exchange, 200, config.loadBalancersTree());
            return;
        }
        final String lbName = p.get(2);
        if (p.size() == 3)
        {
            switch (method)
            {
                case "GET" -> send(exchange, 200, JSON.valueToTree(existingLb(lbName)));
                case "PUT" ->
                {
                    final ObjectNode lb = object(body(exchange), "load balancer");
                    nameMatches(lb, "name", lbName);
                    changed(exchange, config.edit(tree -> upsert((ArrayNode)tree, lb, n -> lbName.equals(n.path("name").asText())),
                        ifMatch(exchange), user(exchange), action));
                }
                case "DELETE" ->
                {
                    existingLb(lbName);
                    changed(exchange, config.edit(tree -> remove((ArrayNode)tree, n -> lbName.equals(n.path("name").asText())),
                        ifMatch(exchange), user(exchange), action));
                }
                default -> throw new ApiError(405, method + " is not allowed here");
            }
            return;
        }
        final LoadBalancer lb = existingLb(lbName);
        switch (p.get(3))
        {
            case "listeners" -> listeners(exchange, method, p, lb, action);
            case "servergroups" -> serverGroups(exchange, method, p, lb, action);
            default -> throw new ApiError(404, "no such resource");
        }
    }

    private void listeners(final HttpExchange exchange, final String method, final List<String> p, final LoadBalancer lb,
        final String action) throws IOException
    {
        if (p.size() == 4)
        {
            requireMethod(method, "GET");
            send(exchange, 200, JSON.valueToTree(lb.listeners()));
            return;
        }
        if (p.size() != 5)
        {
            throw new ApiError(404, "no such resource");
        }
        final String key = p.get(4);
        final String[] protoPort = key.split(":");
        if (protoPort.length != 2 || !protoPort[1].matches("\\d{1,5}"))
        {
            throw new ApiError(400, "a listener is named PROTOCOL:PORT, e.g. tcp:80 (got \"" + key + "\")");
        }
        final java.util.function.Predicate<JsonNode> same = n -> key.equals(n.path("protocol").asText() + ":" + n.path("port").asText());
        switch (method)
        {
            case "GET" -> send(exchange, 200, JSON.valueToTree(existing(lb, key)));
            case "PUT" ->
            {
                final ObjectNode listener = object(body(exchange), "listener");
                nameMatches(listener, "protocol", protoPort[0]);
                if (!listener.has("port"))
                {
                    listener.put("port", Integer.parseInt(protoPort[1]));
                }
                else if (!protoPort[1].equals(listener.get("port").asText()))
                {
                    throw new ApiError(400, "port in the body (" + listener.get("port") + ") is not the one in the path ("
                        + protoPort[1] + ")");
                }
                changed(exchange, config.edit(tree -> upsert(array(tree, lb.name(), "listeners"), listener, same),
                    ifMatch(exchange), user(exchange), action));
            }
            case "DELETE" ->
            {
                existing(lb, key);
                changed(exchange, config.edit(tree -> remove(array(tree, lb.name(), "listeners"), same), ifMatch(exchange),
                    user(exchange), action));
            }
            default -> throw new ApiError(405, method + " is not allowed here");
        }
    }

    private static Listener existing(final LoadBalancer lb, final String key)
    {
        final Listener listener = lb.listener(key);
        if (listener == null)
        {
            throw new ApiError(404, "load balancer " + lb.name() + " has no listener " + key);
        }
        return listener;
    }

    private void serverGroups(final HttpExchange exchange, final String method, final List<String> p, final LoadBalancer lb,
        final String action) throws IOException
    {
        if (p.size() == 4)
        {
            requireMethod(method, "GET");
            send(exchange, 200, JSON.valueToTree(lb.serverGroups()));
            return;
        }
        final String groupName = p.get(4);
        final java.util.function.Predicate<JsonNode> sameGroup = n -> groupName.equals(n.path("name").asText());
        if (p.size() == 5)
        {
            switch (method)
            {
                case "GET" -> send(exchange, 200, JSON.valueToTree(existingGroup(lb, groupName)));
                case "PUT" ->
                {
                    final ObjectNode group = object(body(exchange), "server group");
                    nameMatches(group, "name", groupName);
                    changed(exchange, config.edit(tree -> upsert(array(tree, lb.name(), "serverGroups"), group, sameGroup),
                        ifMatch(exchange), user(exchange), action));
                }
                case "DELETE" ->
                {
                    existingGroup(lb, groupName);
                    changed(exchange, config.edit(tree -> remove(array(tree, lb.name(), "serverGroups"), sameGroup),
                        ifMatch(exchange), user(exchange), action));
                }
                default -> throw new ApiError(405, method + " is not allowed here");
            }
            return;
        }
        final var group = existingGroup(lb, groupName);
        if (!"servers".equals(p.get(5)))
        {
            throw new ApiError(404, "no such resource");
        }
        if (p.size() == 6)
        {
            requireMethod(method, "GET");
            send(exchange, 200, JSON.valueToTree(group.servers()));
            return;
        }
        final InetSocketAddress target = parseServer(p.get(6));
        final java.util.function.Predicate<JsonNode> sameServer = n -> target.getPort() == n.path("port").asInt()
            && sameAddress(n.path("address").asText(), target.getAddress());
        final var existing = group.servers().stream()
            .filter(s -> s.port() == target.getPort() && s.inetAddress().equals(target.getAddress())).findFirst();
        final String lbName = lb.name();
        final java.util.function.Function<JsonNode, ArrayNode> servers = tree -> servers(tree, lbName, groupName);
        if (p.size() == 8 && "drain".equals(p.get(7)))
        {
            requireMethod(method, "POST");
            drain(exchange, lb.name(), groupName, target, existing.isPresent(), servers, sameServer, action);
            return;
        }
        if (p.size() != 7)
        {
            throw new ApiError(404, "no such resource");
        }
        switch (method)
        {
            case "GET" ->
                send(exchange, 200, JSON.valueToTree(existing.orElseThrow(() -> notFoundServer(lb, groupName, p.get(6)))));
            case "PUT" ->
            {
                final ObjectNode server = object(body(exchange), "server");
                server.put("address", target.getAddress().getHostAddress());
                server.put("port", target.getPort());
                changed(exchange, config.edit(tree -> upsert(servers.apply(tree), server, sameServer), ifMatch(exchange),
                    user(exchange), action));
            }
            case "DELETE" ->
            {
                existing.orElseThrow(() -> notFoundServer(lb, groupName, p.get(6)));
                changed(exchange, config.edit(tree -> remove(servers.apply(tree), sameServer), ifMatch(exchange), user(exchange),
                    action));
            }
            default -> throw new ApiError(405, method + " is not allowed here");
        }
    }

    /**
     * Drain: weight 0 at once (no new flows or requests), then after {@code timeoutSeconds} the server is removed, unless
     * its weight was changed again in between.
     */
    private void drain(final HttpExchange exchange, final String lbName, final String groupName, final InetSocketAddress target,
        final boolean exists, final java.util.function.Function<JsonNode, ArrayNode> servers,
        final java.util.function.Predicate<JsonNode> sameServer, final String action) throws IOException
    {
        if (!exists)
        {
            throw new ApiError(404, "no server " + target + " in " + lbName + "/" + groupName);
        }
        final JsonNode body = bodyOrEmpty(exchange);
        final long timeoutSeconds = body.path("timeoutSeconds").asLong(30);
        if (timeoutSeconds < 0 || timeoutSeconds > 86_400)
        {
            throw new ConfigException("request", List.of("timeoutSeconds: " + timeoutSeconds + " is not in 0..86400"));
        }
        final ConfigService.Applied applied = config.edit(tree ->
        {
            for (final JsonNode server : servers.apply(tree))
            {
                if (sameServer.test(server))
                {
                    ((ObjectNode)server).put("weight", 0);
                }
            }
        }, ifMatch(exchange), user(exchange), action);
        final long drainedVersion = applied.version();
        scheduler.schedule(() ->
        {
            try
            {
                // By name, under the config lock: the load balancer or group may be gone or moved since the drain began.
                config.edit(tree -> remove(servers.apply(tree), n -> sameServer.test(n) && n.path("weight").asInt() == 0),
                    -1, "drain", "drain timeout " + lbName + "/" + groupName + "/" + target);
            }
            catch (final ApiError gone)
            {
                LOG.log(System.Logger.Level.INFO, "drained server " + target + " not removed: " + gone.getMessage());
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "removing drained server " + target + " (drained at version " + drainedVersion
                    + "): " + ex.getMessage());
            }
        }, timeoutSeconds, TimeUnit.SECONDS);
        changed(exchange, applied);
    }

    private void certificates(final HttpExchange exchange, final String method, final List<String> p) throws IOException
    {
        final Map<String, List<String>> usedBy = new java.util.TreeMap<>();
        for (final LoadBalancer lb : config.current().loadBalancers())
        {
            for (final Listener listener : lb.listeners())
            {
                for (final String name : listener.certificates())
                {
                    usedBy.computeIfAbsent(name, k -> new ArrayList<>()).add(lb.listenerName(listener));
                }
                if (listener.mutualTls() != null)
                {
                    usedBy.computeIfAbsent(listener.mutualTls().caCertificate(), k -> new ArrayList<>()).add(
                        lb.listenerName(listener) + " (mutualTls)");
                }
            }
        }
        if (p.size() == 2)
        {
            requireMethod(method, "GET");
            final ArrayNode out = JSON.createArrayNode();
            usedBy.forEach((name, users) -> out.addObject().put("name", name).set("usedBy", JSON.valueToTree(users)));
            send(exchange, 200, out);
            return;
        }
        final String name = p.get(2);
        final List<String> users = usedBy.get(name);
        switch (method)
        {
            case "GET" ->
            {
                if (users == null)
                {
                    throw new ApiError(404, "no listener refers to certificate " + name);
                }
                final ObjectNode out = JSON.createObjectNode().put("name", name);
                out.set("usedBy", JSON.valueToTree(users));
                send(exchange, 200, out);
            }
            case "DELETE" ->
            {
                // The node holds no key material: deleting a certificate reference removes it from the listeners that name
                // it; the config rules (an https listener needs one) decide whether that is allowed.
                if (users == null)
                {
                    throw new ApiError(404, "no listener refers to certificate " + name);
                }
                changed(exchange, config.edit(tree ->
                {
                    for (final JsonNode lb : tree)
                    {
                        for (final JsonNode listener : lb.path("listeners"))
                        {
                            final JsonNode certs = listener.get("certificates");
                            if (certs instanceof ArrayNode array)
                            {
                                for (int i = array.size() - 1; i >= 0; i--)
                                {
                                    if (name.equals(array.get(i).asText()))
                                    {
                                        array.remove(i);
                                    }
                                }
                            }
                        }
                    }
                }, ifMatch(exchange), user(exchange), "DELETE /v1/certificates/" + name));
            }
            default -> throw new ApiError(405, method + " is not allowed here");
        }
    }

    private void history(final HttpExchange exchange) throws IOException
    {
        final ArrayNode out = JSON.createArrayNode();
        final boolean full = "full=true".equals(exchange.getRequestURI().getQuery());
        for (final ConfigJournal.Entry entry : config.history())
        {
            final ObjectNode node = out.addObject()
                .put("version", entry.version())
                .put("timestampMs", entry.timestampMs())
                .put("time", java.time.Instant.ofEpochMilli(entry.timestampMs()).toString())
                .put("user", entry.user())
                .put("action", entry.action())
                .put("summary", entry.summary());
            if (full)
            {
                node.set("config", ConfigLoader.tree(entry.configJson(), "journal"));
            }
        }
        send(exchange, 200, out);
    }

    /** {@code GET /v1/usage?since=EPOCH_MS&until=EPOCH_MS}: usage records whose minute starts in [since, until). */
    private void usage(final HttpExchange exchange) throws IOException
    {
        long since = 0;
        long until = Long.MAX_VALUE;
        final String query = exchange.getRequestURI().getQuery();
        if (query != null)
        {
            for (final String pair : query.split("&"))
            {
                final String[] kv = pair.split("=", 2);
                try
                {
                    if ("since".equals(kv[0]))
                    {
                        since = Long.parseLong(kv[1]);
                    }
                    else if ("until".equals(kv[0]))
                    {
                        until = Long.parseLong(kv[1]);
                    }
                }
                catch (final NumberFormatException | ArrayIndexOutOfBoundsException ex)
                {
                    throw new ApiError(400, kv[0] + " must be epoch milliseconds (got \"" + pair + "\")");
                }
            }
        }
        final ArrayNode out = JSON.createArrayNode();
        for (final UsageJournal.Record record : usage.between(since, until))
        {
            out.addObject()
                .put("loadBalancer", record.loadBalancer())
                .put("minute", java.time.Instant.ofEpochMilli(record.minuteStartMs()).toString())
                .put("bytesOut", record.bytesOut())
                .put("packetsOut", record.packetsOut())
                .put("bytesIn", record.bytesIn())
                .put("packetsIn", record.packetsIn())
                .put("requests", record.requests());
        }
        send(exchange, 200, out);
    }

    private void healthz(final HttpExchange exchange) throws IOException
    {
        final List<String> reasons = readiness.notReadyReasons();
        final ObjectNode body = JSON.createObjectNode();
        body.put("status", reasons.isEmpty() ? "ready" : "not ready");
        body.put("node", nodeName.get());
        body.put("configVersion", config.version());
        final ArrayNode why = body.putArray("reasons");
        reasons.forEach(why::add);
        body.setAll(readiness.detail());
        send(exchange, reasons.isEmpty() ? 200 : 503, body);
    }

    private void metrics(final HttpExchange exchange) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        exchange.getResponseHeaders().set("Content-Type", metrics.contentType());
        exchange.sendResponseHeaders(200, out.size());
        out.writeTo(exchange.getResponseBody());
    }

    private void openapi(final HttpExchange exchange) throws IOException
    {
        try (InputStream in = ApiServer.class.getResourceAsStream("openapi.json"))
        {
            final byte[] document = in.readAllBytes();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, document.length);
            exchange.getResponseBody().write(document);
        }
    }

    private void changed(final HttpExchange exchange, final ConfigService.Applied applied) throws IOException
    {
        final ObjectNode body = JSON.createObjectNode();
        body.put("version", applied.version());
        final ArrayNode changes = body.putArray("changes");
        for (final ConfigDiff.Change change : applied.changes())
        {
            changes.add(change.toString());
        }
        send(exchange, 200, body, applied.version());
    }

    private void send(final HttpExchange exchange, final int status, final JsonNode body) throws IOException
    {
        send(exchange, status, body, config.version());
    }

    /** Answers with {@code ETag: "etagVersion"}: the version the body describes, not whatever is current by now. */
    private void send(final HttpExchange exchange, final int status, final JsonNode body, final long etagVersion) throws IOException
    {
        final byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("ETag", "\"" + etagVersion + "\"");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody())
        {
            out.write(bytes);
        }
    }

    private void error(final HttpExchange exchange, final int status, final String message) throws IOException
    {
        send(exchange, status, JSON.createObjectNode().put("error", message));
    }

    private static JsonNode body(final HttpExchange exchange) throws IOException
    {
        final byte[] bytes = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
        if (bytes.length > MAX_BODY_BYTES)
        {
            throw new ApiError(413, "request body over " + MAX_BODY_BYTES + " bytes");
        }
        if (bytes.length == 0)
        {
            throw new ApiError(400, "empty request body");
        }
        return ConfigLoader.tree(new String(bytes, StandardCharsets.UTF_8), "request");
    }

    private static JsonNode bodyOrEmpty(final HttpExchange exchange) throws IOException
    {
        final byte[] bytes = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES);
        return bytes.length == 0 ? JSON.createObjectNode() : ConfigLoader.tree(new String(bytes, StandardCharsets.UTF_8), "request");
    }

    private static long ifMatch(final HttpExchange exchange)
    {
        final String header = exchange.getRequestHeaders().getFirst("If-Match");
        if (header == null || header.strip().equals("*"))
        {
            return -1;
        }
        final String digits = header.strip().replace("\"", "").replace("W/", "");
        try
        {
            return Long.parseLong(digits);
        }
        catch (final NumberFormatException ex)
        {
            throw new ApiError(400, "If-Match must be a config version in quotes, e.g. \"12\" (got " + header + ")");
        }
    }

    private static String user(final HttpExchange exchange)
    {
        final String agent = exchange.getRequestHeaders().getFirst("User-Agent");
        return "api " + exchange.getRemoteAddress().getAddress().getHostAddress() + (agent == null ? "" : " (" + agent + ")");
    }

    private LoadBalancer existingLb(final String name)
    {
        final LoadBalancer lb = config.loadBalancer(name);
        if (lb == null)
        {
            throw new ApiError(404, "no load balancer named " + name);
        }
        return lb;
    }

    private static io.sluice.control.config.ServerGroup existingGroup(final LoadBalancer lb, final String name)
    {
        final var group = lb.serverGroup(name);
        if (group == null)
        {
            throw new ApiError(404, "load balancer " + lb.name() + " has no server group " + name);
        }
        return group;
    }

    private static ApiError notFoundServer(final LoadBalancer lb, final String group, final String server)
    {
        return new ApiError(404, "no server " + server + " in " + lb.name() + "/" + group);
    }

    private static InetSocketAddress parseServer(final String text)
    {
        final int colon = text.lastIndexOf(':');
        if (colon <= 0)
        {
            throw new ApiError(400, "a server is named ADDRESS:PORT ([v6]:PORT), got \"" + text + "\"");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        try
        {
            final int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 1 || port > 65535)
            {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(InetAddress.ofLiteral(host), port);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ApiError(400, "a server is named ADDRESS:PORT ([v6]:PORT), got \"" + text + "\"");
        }
    }

    private static boolean sameAddress(final String text, final InetAddress address)
    {
        try
        {
            return InetAddress.ofLiteral(text).equals(address);
        }
        catch (final IllegalArgumentException ex)
        {
            return false;
        }
    }

    private static ObjectNode object(final JsonNode node, final String what)
    {
        if (!(node instanceof ObjectNode object))
        {
            throw new ApiError(400, "expected a " + what + " object");
        }
        return object;
    }

    private static void nameMatches(final ObjectNode body, final String key, final String fromPath)
    {
        if (!body.has(key))
        {
            body.put(key, fromPath);
        }
        else if (!fromPath.equals(body.get(key).asText()))
        {
            throw new ApiError(400, key + " in the body (" + body.get(key).asText() + ") is not the one in the path (" + fromPath + ")");
        }
    }

    /** The named load balancer's {@code field} array in the tree being edited (looked up under the config lock). */
    private static ArrayNode array(final JsonNode tree, final String lbName, final String field)
    {
        for (final JsonNode lb : tree)
        {
            if (lbName.equals(lb.path("name").asText()))
            {
                return ((ObjectNode)lb).withArray(field);
            }
        }
        throw new ApiError(404, "no load balancer named " + lbName);
    }

    /** The named group's servers in the tree being edited. */
    private static ArrayNode servers(final JsonNode tree, final String lbName, final String groupName)
    {
        for (final JsonNode group : array(tree, lbName, "serverGroups"))
        {
            if (groupName.equals(group.path("name").asText()))
            {
                return ((ObjectNode)group).withArray("servers");
            }
        }
        throw new ApiError(404, "load balancer " + lbName + " has no server group " + groupName);
    }

    private static JsonNode upsert(final ArrayNode array, final JsonNode item, final java.util.function.Predicate<JsonNode> same)
    {
        for (int i = 0; i < array.size(); i++)
        {
            if (same.test(array.get(i)))
            {
                array.set(i, item);
                return array;
            }
        }
        array.add(item);
        return array;
    }

    private static JsonNode remove(final ArrayNode array, final java.util.function.Predicate<JsonNode> same)
    {
        for (int i = array.size() - 1; i >= 0; i--)
        {
            if (same.test(array.get(i)))
            {
                array.remove(i);
            }
        }
        return array;
    }

    private static void requireMethod(final String method, final String allowed)
    {
        if (!allowed.equals(method))
        {
            throw new ApiError(405, method + " is not allowed here (only " + allowed + ")");
        }
    }

    private static List<String> segments(final String path)
    {
        final List<String> out = new ArrayList<>();
        for (final String part : path.split("/"))
        {
            if (!part.isEmpty())
            {
                out.add(part);
            }
        }
        return out;
    }

    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
        scheduler.shutdownNow();
    }

    /** An error with its HTTP status. */
    static final class ApiError extends RuntimeException
    {
        private static final long serialVersionUID = 1L;
        private final int status;

        ApiError(final int status, final String message)
        {
            super(message);
            this.status = status;
        }
    }
}
