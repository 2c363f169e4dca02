package io.sluice.perf.subjects;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ThreadSchedTest
{
    @Test
    void shouldReadRunDelayAsTheSecondSchedstatField()
    {
        assertThat(ThreadSched.runDelayNs("48213377 1200345 1042\n")).isEqualTo(1_200_345L);
    }

    @Test
    void shouldRejectSchedstatWithoutRunDelay()
    {
        assertThatThrownBy(() -> ThreadSched.runDelayNs("48213377\n")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldSumRunDelayOfServingThreadsOnlyCountingNewThreadsFromZero()
    {
        final Map<Long, ThreadSched.Task> before = Map.of(
            11L, new ThreadSched.Task("sluice-l7-0-0", 1_000_000),
            12L, new ThreadSched.Task("sluice-l7-acces", 5_000_000),
            13L, new ThreadSched.Task("C2 CompilerThre", 7_000_000));
        final Map<Long, ThreadSched.Task> after = Map.of(
            11L, new ThreadSched.Task("sluice-l7-0-0", 51_000_000),
            12L, new ThreadSched.Task("sluice-l7-acces", 95_000_000),
            13L, new ThreadSched.Task("C2 CompilerThre", 97_000_000),
            14L, new ThreadSched.Task("sluice-l7-0-1", 25_000_000));

        final long waited = ThreadSched.runDelayNs(before, after,
            comm -> comm.startsWith("sluice-l7-") && !comm.startsWith("sluice-l7-acces"));

        assertThat(waited).isEqualTo(75_000_000L);
        assertThat(ThreadSched.runqPercent(waited, 1_000_000_000L)).isCloseTo(7.5, within(1e-9));
        assertThat(ThreadSched.runqPercent(waited, 0)).isNaN();
    }

    @Test
    void shouldReadThisJvmsThreadsFromProc()
    {
        final Map<Long, ThreadSched.Task> tasks = ThreadSched.tasks(List.of(ProcessHandle.current().pid()));

        assertThat(tasks).isNotEmpty();
        assertThat(tasks.values()).extracting(ThreadSched.Task::comm).anyMatch(comm -> comm.startsWith("GC Thread")
            || comm.startsWith("C2 CompilerThre") || comm.equals("java"));
        assertThat(tasks.values()).allMatch(task -> task.runDelayNs() >= 0);
    }

    @Test
    void shouldReportNoRunQueueShareForAWindowNeverStarted()
    {
        assertThat(new ThreadSched.Window(comm -> true).runqPercent(List.of(ProcessHandle.current().pid()))).isNaN();
    }

    @Test
    void shouldReadUserPlusSystemTicksFromAStatLineWhoseNameHasSpaces()
    {
        final String stat = "4242 (C2 CompilerThre) S 1 4242 4242 0 -1 4194368 500 0 0 0 1234 56 0 0 20 0 30 0 100 0 0\n";

        assertThat(ThreadCpu.ticks(stat)).isEqualTo(1290L);
    }

    @Test
    void shouldSortNodeThreadsIntoEventLoopJitGcAndOther()
    {
        assertThat(Sluice.role("sluice-l7-0-1")).isEqualTo("eventLoop");
        assertThat(Sluice.role("sluice-l7-acces")).isEqualTo("other");
        assertThat(Sluice.role("C1 CompilerThre")).isEqualTo("jit");
        assertThat(Sluice.role("C2 CompilerThre")).isEqualTo("jit");
        assertThat(Sluice.role("GC Thread#1")).isEqualTo("gc");
        assertThat(Sluice.role("G1 Conc#0")).isEqualTo("gc");
        assertThat(Sluice.role("G1 Refine#0")).isEqualTo("gc");
        assertThat(Sluice.role("keyserver-clien")).isEqualTo("keyServerClient");
        assertThat(Sluice.role("VM Thread")).isEqualTo("other");
    }
}
