package io.sluice.nativeio.packet;

import java.lang.foreign.MemorySegment;

/** Sees one received frame in place; the bytes are valid only during the call. */
@FunctionalInterface
public interface FrameHandler
{
    /**
     * @param buffer the memory the frame lies in (a UMEM or a packet ring).
     * @param offset where the Ethernet header starts.
     * @param length frame length in bytes.
     */
    void onFrame(MemorySegment buffer, long offset, int length);
}
