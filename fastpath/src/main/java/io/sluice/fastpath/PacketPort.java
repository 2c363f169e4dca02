package io.sluice.fastpath;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A forwarder's frame I/O: one rx/tx queue pair (an AF_XDP socket on queue i, or {@link InMemoryPacketPort} in
 * tests). Batch shaped: {@link #poll} receives up to {@code limit} frames, hands each to the handler to rewrite in
 * place, then transmits the kept ones together and recycles the rest. No allocation.
 */
public interface PacketPort
{
    /** Returned by a handler for a frame that is not to be transmitted (dropped, or copied elsewhere). */
    int CONSUMED = -1;

    @FunctionalInterface
    interface FrameHandler
    {
        /**
         * @return the length to transmit the (rewritten in place) frame with, at most the frame's capacity, or
         * {@link #CONSUMED}.
         */
        int onFrame(MutableDirectBuffer buffer, int offset, int length);
    }

    /** Receives, handles and transmits one batch. @return frames received plus frames this poll pushed out (work done). */
    int poll(FrameHandler handler, int limit);

    /** Transmits a copy of a frame that came from elsewhere (a hand-off ring). @return false when tx is full. */
    boolean send(DirectBuffer buffer, int offset, int length);

    /** MAC address of the interface, the source MAC of every frame sent. */
    long macAddress();
}
