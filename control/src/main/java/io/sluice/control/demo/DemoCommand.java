package io.sluice.control.demo;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code sluice demo [--keep] [--duration SECONDS]}: see {@link Demo} and docs/demo.md. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Bring up a namespace testbed with two LB nodes and a key server, drive TCP/UDP/HTTP/HTTPS traffic with a live view, "
        + "fail one LB node over (SIGKILL), summarise, clean up. Needs root. Exit 0: every protocol worked through the failover; "
        + "1: some did not (the summary says why); 2: the demo could not run.")
public final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--keep", description = "leave the testbed, the surviving node and the key server running; print the API URL")
    boolean keep;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "seconds of traffic; lb1's node is killed half way "
        + "(default ${DEFAULT-VALUE}, 4..3600)")
    int durationSeconds = 20;

    @Option(names = "--rate", description = "requests per second per protocol at most, each on a new connection "
        + "(default ${DEFAULT-VALUE}, 1..10000)")
    int ratePerSecond = 100;

    @Option(names = "--backends", description = "backend servers (default ${DEFAULT-VALUE}, 1..8)")
    int backends = 2;

    @Option(names = "--prefix", hidden = true, description = "testbed prefix (tests pick their own)")
    String prefix;

    @Override
    public Integer call()
    {
        if (durationSeconds < 4 || durationSeconds > 3600)
        {
            System.out.println("--duration: " + durationSeconds + " is not in 4..3600");
            return Demo.EXIT_SETUP_FAILED;
        }
        if (ratePerSecond < 1 || ratePerSecond > 10_000)
        {
            System.out.println("--rate: " + ratePerSecond + " is not in 1..10000");
            return Demo.EXIT_SETUP_FAILED;
        }
        if (backends < 1 || backends > 8)
        {
            System.out.println("--backends: " + backends + " is not in 1..8");
            return Demo.EXIT_SETUP_FAILED;
        }
        return new Demo(new Demo.Settings(keep, durationSeconds, ratePerSecond, backends, prefix), System.out).run();
    }
}
