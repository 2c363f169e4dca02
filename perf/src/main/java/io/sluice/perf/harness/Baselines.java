package io.sluice.perf.harness;

import io.sluice.testbed.Commands;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Installs the baseline and load tools from Debian when missing: one {@code apt-get install}, with
 * {@code apt-get update} first only when the install fails (stale or absent package lists). nginx
 * and HAProxy are never started by the package here (policy-rc.d); subjects start their own.
 */
public final class Baselines
{
    /** Debian package → a binary it provides. */
    public static final Map<String, String> PACKAGES = packages();

    private static final System.Logger LOG = System.getLogger(Baselines.class.getName());

    private Baselines()
    {
    }

    private static Map<String, String> packages()
    {
        final Map<String, String> map = new LinkedHashMap<>();
        map.put("nftables", "nft");
        map.put("haproxy", "haproxy");
        map.put("nginx", "nginx");
        map.put("wrk", "wrk");
        map.put("nghttp2-client", "h2load");
        map.put("ethtool", "ethtool");
        map.put("openssl", "openssl");
        return map;
    }

    /** Packages whose binary is not on this machine. */
    public static List<String> missing()
    {
        final List<String> missing = new ArrayList<>();
        PACKAGES.forEach((pkg, binary) ->
        {
            if (!Commands.available(binary))
            {
                missing.add(pkg);
            }
        });
        return missing;
    }

    /** Installs what is missing; returns what is still missing afterwards (empty when all is there). */
    public static List<String> ensureInstalled()
    {
        final List<String> missing = missing();
        if (missing.isEmpty())
        {
            return missing;
        }
        LOG.log(Level.INFO, "installing baselines from Debian: " + missing);
        final List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
        install.addAll(missing);
        if (!Commands.run(withEnv(install), 900_000).ok())
        {
            Commands.run(withEnv(List.of("apt-get", "update")), 600_000);
            Commands.run(withEnv(install), 900_000);
        }
        return missing();
    }

    private static List<String> withEnv(final List<String> command)
    {
        final List<String> full = new ArrayList<>(List.of("env", "DEBIAN_FRONTEND=noninteractive"));
        full.addAll(command);
        return full;
    }
}
