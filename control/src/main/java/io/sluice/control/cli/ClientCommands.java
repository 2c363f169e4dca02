package io.sluice.control.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.control.config.ConfigDiff;
import io.sluice.control.config.ConfigException;
import io.sluice.control.config.ConfigLoader;
import io.sluice.control.config.SluiceConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** The client commands of CONTRACT.md: apply, diff, get, delete, history. Exit codes are in docs/cli.md. */
final class ClientCommands
{
    private ClientCommands()
    {
    }

    /** Runs a client call, printing a failure's message and returning its exit code. */
    abstract static class ClientCommand implements Callable<Integer>
    {
        @Mixin
        ApiClient.Options api;

        @Override
        public final Integer call()
        {
            try
            {
                return run(new ApiClient(api));
            }
            catch (final ApiClient.Failure ex)
            {
                System.err.println("sluice: " + ex.getMessage());
                return ex.exitCode;
            }
            catch (final ConfigException ex)
            {
                System.err.println(ex.getMessage());
                return ApiClient.EXIT_INVALID;
            }
        }

        abstract int run(ApiClient client) throws ApiClient.Failure;
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
        description = "Make the node's load balancers exactly those of FILE (its node/cluster sections are read only at node start).")
    static final class Apply extends ClientCommand
    {
        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "YAML or JSON config.")
        Path file;

        @Option(names = "--if-version", paramLabel = "N", description = "Apply only if the node's config is still at version N.")
        Long ifVersion;

        @Override
        int run(final ApiClient client) throws ApiClient.Failure
        {
            final SluiceConfig config = ConfigLoader.load(file);
            final ObjectNode body = ConfigLoader.jsonWriter().createObjectNode();
            body.put("apiVersion", SluiceConfig.API_VERSION);
            body.set("loadBalancers", ConfigLoader.jsonWriter().valueToTree(config.loadBalancers()));
            final JsonNode result = client.call("PUT", "/v1/config", body.toString(),
                ifVersion == null ? null : "\"" + ifVersion + "\"").body();
            final JsonNode changes = result.path("changes");
            if (changes.isEmpty())
            {
                System.out.println("no change (version " + result.path("version").asLong() + ")");
            }
            else
            {
                changes.forEach(change -> System.out.println(change.asText()));
                System.out.println("applied: version " + result.path("version").asLong());
            }
            return ApiClient.EXIT_OK;
        }
    }

    @Command(name = "diff", mixinStandardHelpOptions = true,
        description = "Show what 'apply -f FILE' would change on the node. Exit 0: no difference; 1: differences.")
    static final class Diff extends ClientCommand
    {
        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "YAML or JSON config.")
        Path file;

        @Override
        int run(final ApiClient client) throws ApiClient.Failure
        {
            final SluiceConfig wanted = ConfigLoader.load(file);
            final JsonNode current = client.call("GET", "/v1/config", null, null).body();
            final SluiceConfig running = ConfigLoader.validate(stripVersion(current), "node");
            final List<ConfigDiff.Change> changes = ConfigDiff.between(running.loadBalancers(), wanted.loadBalancers());
            changes.forEach(System.out::println);
            System.out.println(changes.isEmpty() ? "no differences from version " + current.path("version").asLong()
                : changes.size() + " differences from version " + current.path("version").asLong());
            return changes.isEmpty() ? ApiClient.EXIT_OK : 1;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
        description = "Show objects of a kind: loadbalancer [NAME], listener [LB/PROTO:PORT], servergroup [LB/NAME], "
            + "server [LB/GROUP/ADDR:PORT], certificate [NAME].")
    static final class Get extends ClientCommand
    {
        @Parameters(index = "0", paramLabel = "KIND", description = "loadbalancer | listener | servergroup | server | certificate")
        String kind;

        @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "One object; all of the kind when absent.")
        String name;

        @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT", description = "table | json | yaml")
        String output;

        @Override
        int run(final ApiClient client) throws ApiClient.Failure
        {
            final Kind k = Kind.parse(kind);
            final JsonNode result;
            if (name == null)
            {
                result = k == Kind.CERTIFICATE ? client.call("GET", "/v1/certificates", null, null).body() : all(client, k);
            }
            else
            {
                result = client.call("GET", k.path(name), null, null).body();
            }
            print(k, result.isArray() ? result : ConfigLoader.jsonWriter().createArrayNode().add(result));
            return ApiClient.EXIT_OK;
        }

        private JsonNode all(final ApiClient client, final Kind k) throws ApiClient.Failure
        {
            final JsonNode lbs = client.call("GET", "/v1/loadbalancers", null, null).body();
            if (k == Kind.LOADBALANCER)
            {
                return lbs;
            }
            final var out = ConfigLoader.jsonWriter().createArrayNode();
            for (final JsonNode lb : lbs)
            {
                if (k == Kind.LISTENER)
                {
                    lb.path("listeners").forEach(l -> out.add(((ObjectNode)l.deepCopy()).put("loadBalancer", lb.path("name").asText())));
                }
                for (final JsonNode group : lb.path("serverGroups"))
                {
                    if (k == Kind.SERVERGROUP)
                    {
                        out.add(((ObjectNode)group.deepCopy()).put("loadBalancer", lb.path("name").asText()));
                    }
                    if (k == Kind.SERVER)
                    {
                        group.path("servers").forEach(s -> out.add(((ObjectNode)s.deepCopy())
                            .put("loadBalancer", lb.path("name").asText()).put("serverGroup", group.path("name").asText())));
                    }
                }
            }
            return out;
        }

        private void print(final Kind k, final JsonNode items)
        {
            try
            {
                switch (output.toLowerCase(Locale.ROOT))
                {
                    case "json" -> System.out.println(ConfigLoader.jsonWriter().writerWithDefaultPrettyPrinter().writeValueAsString(
                        items.size() == 1 && name != null ? items.get(0) : items));
                    case "yaml" -> System.out.print(ConfigLoader.yamlWriter().writeValueAsString(
                        items.size() == 1 && name != null ? items.get(0) : items));
                    case "table" -> System.out.print(Table.of(k, items));
                    default -> throw new IllegalArgumentException("-o " + output + " is not one of table | json | yaml");
                }
            }
            catch (final JsonProcessingException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
        description = "Delete a loadbalancer NAME, listener LB/PROTO:PORT, servergroup LB/NAME, server LB/GROUP/ADDR:PORT, "
            + "or certificate NAME (removes the reference from every listener).")
    static final class Delete extends ClientCommand
    {
        @Parameters(index = "0", paramLabel = "KIND")
        String kind;

        @Parameters(index = "1", paramLabel = "NAME")
        String name;

        @Override
        int run(final ApiClient client) throws ApiClient.Failure
        {
            final JsonNode result = client.call("DELETE", Kind.parse(kind).path(name), null, null).body();
            result.path("changes").forEach(change -> System.out.println(change.asText()));
            System.out.println("deleted: version " + result.path("version").asLong());
            return ApiClient.EXIT_OK;
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true,
        description = "The config journal: who changed what, when, and the resulting version.")
    static final class History extends ClientCommand
    {
        @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT", description = "table | json")
        String output;

        @Override
        int run(final ApiClient client) throws ApiClient.Failure
        {
            final JsonNode entries = client.call("GET", "/v1/history", null, null).body();
            if ("json".equals(output))
            {
                System.out.println(entries.toPrettyString());
                return ApiClient.EXIT_OK;
            }
            final List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"VERSION", "TIME", "USER", "ACTION", "SUMMARY"});
            for (final JsonNode entry : entries)
            {
                rows.add(new String[] {entry.path("version").asText(), entry.path("time").asText(), entry.path("user").asText(),
                    entry.path("action").asText(), entry.path("summary").asText()});
            }
            System.out.print(Table.render(rows));
            return ApiClient.EXIT_OK;
        }
    }

    private static JsonNode stripVersion(final JsonNode config)
    {
        final ObjectNode copy = (ObjectNode)config.deepCopy();
        copy.remove("version");
        return copy;
    }

    /** The kinds the CLI names, and their API paths. */
    enum Kind
    {
        LOADBALANCER, LISTENER, SERVERGROUP, SERVER, CERTIFICATE;

        static Kind parse(final String text)
        {
            return switch (text.toLowerCase(Locale.ROOT))
            {
                case "loadbalancer", "loadbalancers", "lb" -> LOADBALANCER;
                case "listener", "listeners" -> LISTENER;
                case "servergroup", "servergroups", "sg" -> SERVERGROUP;
                case "server", "servers" -> SERVER;
                case "certificate", "certificates", "cert" -> CERTIFICATE;
                default -> throw new ConfigException("command line", List.of("KIND: \"" + text
                    + "\" is not one of loadbalancer | listener | servergroup | server | certificate"));
            };
        }

        String path(final String name)
        {
            final String[] parts = name.split("/");
            final int expected = switch (this)
            {
                case LOADBALANCER, CERTIFICATE -> 1;
                case LISTENER, SERVERGROUP -> 2;
                case SERVER -> 3;
            };
            if (parts.length != expected)
            {
                throw new ConfigException("command line", List.of("NAME: \"" + name + "\" is not " + switch (this)
                {
                    case LOADBALANCER -> "LB";
                    case CERTIFICATE -> "NAME";
                    case LISTENER -> "LB/PROTO:PORT";
                    case SERVERGROUP -> "LB/GROUP";
                    case SERVER -> "LB/GROUP/ADDR:PORT";
                }));
            }
            final String lb = "/v1/loadbalancers/" + ApiClient.segment(parts[0]);
            return switch (this)
            {
                case LOADBALANCER -> lb;
                case CERTIFICATE -> "/v1/certificates/" + ApiClient.segment(parts[0]);
                case LISTENER -> lb + "/listeners/" + ApiClient.segment(parts[1]);
                case SERVERGROUP -> lb + "/servergroups/" + ApiClient.segment(parts[1]);
                case SERVER -> lb + "/servergroups/" + ApiClient.segment(parts[1]) + "/servers/" + ApiClient.segment(parts[2]);
            };
        }
    }
}
