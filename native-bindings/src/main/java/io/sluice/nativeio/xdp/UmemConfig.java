package io.sluice.nativeio.xdp;

/**
 * How a UMEM is laid out: {@code frameCount} frames ("chunks") of {@code frameSizeBytes} each, the first
 * {@code headroomBytes} of every frame left free before the kernel's own XDP_PACKET_HEADROOM (for encapsulation).
 *
 * @param frameCount     number of frames; 1..(1 << 24).
 * @param frameSizeBytes 2048 or 4096 (aligned chunk mode needs a power of two between 2048 and the page size).
 * @param headroomBytes  0..(frameSizeBytes - XDP_PACKET_HEADROOM - 1518).
 * @param hugePages      back the area with 2 MiB pages when the kernel has them free (falls back with a reason).
 */
public record UmemConfig(int frameCount, int frameSizeBytes, int headroomBytes, boolean hugePages)
{
    public static final int DEFAULT_FRAME_COUNT = 4096;
    public static final int DEFAULT_FRAME_SIZE_BYTES = 4096;

    public UmemConfig
    {
        if (frameCount < 1 || frameCount > (1 << 24))
        {
            throw new IllegalArgumentException("frameCount: " + frameCount + " is not in 1..16777216");
        }
        if (frameSizeBytes != 2048 && frameSizeBytes != 4096)
        {
            throw new IllegalArgumentException("frameSizeBytes: " + frameSizeBytes + " is not 2048 or 4096");
        }
        final int maxHeadroom = frameSizeBytes - XdpLayouts.XDP_PACKET_HEADROOM - 1518;
        if (headroomBytes < 0 || headroomBytes > maxHeadroom)
        {
            throw new IllegalArgumentException("headroomBytes: " + headroomBytes + " is not in 0.." + maxHeadroom);
        }
    }

    public static UmemConfig defaults()
    {
        return new UmemConfig(DEFAULT_FRAME_COUNT, DEFAULT_FRAME_SIZE_BYTES, 0, false);
    }

    public long lengthBytes()
    {
        return (long)frameCount * frameSizeBytes;
    }
}
