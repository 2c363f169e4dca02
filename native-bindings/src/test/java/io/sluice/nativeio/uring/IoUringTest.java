package io.sluice.nativeio.uring;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.Sockets;
import io.sluice.nativeio.TestNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

class IoUringTest
{
    private static TestNetwork network;
    private static String nsA;
    private static String nsB;

    @TempDir
    Path temp;

    @BeforeAll
    static void setUp()
    {
        network = new TestNetwork();
        nsA = network.namespace("ua");
        nsB = network.namespace("ub");
        final String ifA = network.name("ua");
        final String ifB = network.name("ub");
        network.veth(nsA, ifA, nsB, ifB);
        network.ip(nsA, "addr", "add", "198.18.0.1/24", "dev", ifA);
        network.ip(nsB, "addr", "add", "198.18.0.2/24", "dev", ifB);
    }

    @AfterAll
    static void tearDown()
    {
        network.close();
    }

    private record Completion(long userData, int result, int flags)
    {
    }

    private static List<Completion> await(final IoUring ring, final int count)
    {
        final List<Completion> completions = new ArrayList<>();
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (completions.size() < count && System.nanoTime() < deadline)
        {
            ring.submitAndWait(1);
            ring.reap((userData, result, flags) -> completions.add(new Completion(userData, result, flags)), count);
        }
        return completions;
    }

    @Test
    void shouldBeAvailableOnTheseMachines()
    {
        assertThat(IoUring.unavailabilityCause()).isNull();
        assertThat(IoUring.isAvailable()).isTrue();
    }

    @Test
    void shouldCompleteBatchOfNopsAndTimeout()
    {
        try (IoUring ring = IoUring.create(8); Arena arena = Arena.ofConfined())
        {
            final MemorySegment timespec = arena.allocate(16, 8);
            timespec.set(JAVA_LONG, 8, 1_000_000L);
            for (int i = 0; i < 4; i++)
            {
                assertThat(ring.prepNop(100 + i)).isTrue();
            }
            assertThat(ring.prepTimeout(timespec, 0, 7)).isTrue();
            assertThat(ring.pending()).isEqualTo(5);
            final List<Completion> completions = await(ring, 5);
            assertThat(completions).extracting(Completion::userData).containsExactlyInAnyOrder(100L, 101L, 102L, 103L, 7L);
            assertThat(completions).filteredOn(c -> c.userData() == 7).extracting(Completion::result)
                .containsExactly(-62 /* ETIME */);
        }
    }

    @Test
    void shouldRefuseToPrepareBeyondSubmissionQueue()
    {
        try (IoUring ring = IoUring.create(4))
        {
            for (int i = 0; i < ring.sqEntries(); i++)
            {
                assertThat(ring.prepNop(i)).isTrue();
            }
            assertThat(ring.prepNop(99)).isFalse();
            assertThat(await(ring, ring.sqEntries())).hasSize(ring.sqEntries());
            assertThat(ring.prepNop(99)).isTrue();
        }
    }

    @Test
    void shouldReadAndWriteFile() throws Exception
    {
        final Path file = temp.resolve("data");
        Files.writeString(file, "hello io_uring");
        final int fd = Libc.open(file.toString(), Libc.O_RDONLY);
        assertThat(fd).isPositive();
        try (IoUring ring = IoUring.create(4); Arena arena = Arena.ofConfined())
        {
            final MemorySegment buffer = arena.allocate(64);
            ring.prepRead(fd, buffer, 64, 6, 1);
            final Completion read = await(ring, 1).getFirst();
            assertThat(read.result()).isEqualTo(8);
            assertThat(new String(buffer.asSlice(0, 8).toArray(JAVA_BYTE), StandardCharsets.US_ASCII)).isEqualTo("io_uring");

            final int badWrite = Libc.open(file.toString(), Libc.O_RDONLY);
            ring.prepWrite(badWrite, buffer, 8, 0, 2);
            assertThat(await(ring, 1).getFirst().result()).as("write to a read-only fd").isEqualTo(-Errno.EBADF);
            Libc.close(badWrite);
        }
        finally
        {
            Libc.close(fd);
        }
    }

    @Test
    void shouldEchoUdpBetweenNamespaces() throws Exception
    {
        final int serverFd = NetNs.call(nsA, () -> Sockets.bindUdp(new InetSocketAddress("198.18.0.1", 7000)));
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread server = Thread.ofPlatform().name("uring-echo").start(() ->
        {
            try (IoUring ring = IoUring.create(16); Arena arena = Arena.ofConfined())
            {
                final MsgHdr message = new MsgHdr(arena, 2048);
                final long recv = 1;
                final long send = 2;
                ring.prepRecvMsg(serverFd, message.reset().segment(), 0, recv);
                while (!stop.get())
                {
                    ring.submitAndWait(1);
                    ring.reap((userData, result, flags) ->
                    {
                        if (userData == recv && result >= 0)
                        {
                            ring.prepSendMsg(serverFd, message.length(result).segment(), 0, send);
                        }
                        else
                        {
                            ring.prepRecvMsg(serverFd, message.reset().segment(), 0, recv);
                        }
                    }, 16);
                }
            }
        });
        try (DatagramChannel client = NetNs.call(nsB, DatagramChannel::open))
        {
            client.bind(new InetSocketAddress("198.18.0.2", 0));
            for (int i = 0; i < 100; i++)
            {
                final byte[] payload = ("ping " + i).getBytes(StandardCharsets.US_ASCII);
                client.send(ByteBuffer.wrap(payload), new InetSocketAddress("198.18.0.1", 7000));
                final ByteBuffer reply = ByteBuffer.allocate(64);
                final InetSocketAddress from = (InetSocketAddress)client.receive(reply);
                assertThat(from).isEqualTo(new InetSocketAddress("198.18.0.1", 7000));
                assertThat(new String(reply.array(), 0, reply.position(), StandardCharsets.US_ASCII)).isEqualTo("ping " + i);
            }
        }
        finally
        {
            stop.set(true);
            // Wake the server's io_uring_enter with one last datagram.
            NetNs.run(nsA, () ->
            {
                try (DatagramChannel waker = DatagramChannel.open())
                {
                    waker.send(ByteBuffer.wrap(new byte[1]), new InetSocketAddress("198.18.0.1", 7000));
                }
                catch (final java.io.IOException ignored)
                {
                    // the server also stops on its next completion
                }
            });
            server.join(10_000);
            Libc.close(serverFd);
        }
    }

    @Test
    void shouldPollAndReceiveMultishotIntoProvidedBuffers() throws Exception
    {
        final int fd = NetNs.call(nsA, () -> Sockets.bindUdp(new InetSocketAddress("198.18.0.1", 7001)));
        try (IoUring ring = IoUring.create(8); BufferRing buffers = BufferRing.register(ring, 3, 8, 256);
            DatagramChannel client = NetNs.call(nsB, DatagramChannel::open))
        {
            ring.prepPollAdd(fd, Libc.POLLIN, 10);
            ring.submit();
            client.send(ByteBuffer.wrap("first".getBytes(StandardCharsets.US_ASCII)), new InetSocketAddress("198.18.0.1", 7001));
            final Completion poll = await(ring, 1).getFirst();
            assertThat(poll.userData()).isEqualTo(10);
            assertThat(poll.result() & Libc.POLLIN).isEqualTo(Libc.POLLIN);

            ring.prepRecvMultishot(fd, buffers.groupId(), 20);
            for (final String text : new String[] {"second", "third"})
            {
                client.send(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)), new InetSocketAddress("198.18.0.1", 7001));
            }
            final List<String> received = new ArrayList<>();
            for (final Completion completion : await(ring, 3))
            {
                assertThat(completion.result()).as("result").isPositive();
                assertThat(completion.flags() & IoUringLayouts.IORING_CQE_F_MORE).as("still armed").isNotZero();
                assertThat(completion.flags() & IoUringLayouts.IORING_CQE_F_BUFFER).isNotZero();
                final int bid = BufferRing.bufferId(completion.flags());
                received.add(new String(buffers.buffer(bid).asSlice(0, completion.result()).toArray(JAVA_BYTE),
                    StandardCharsets.US_ASCII));
                buffers.recycle(bid);
            }
            assertThat(received).containsExactly("first", "second", "third");
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
