package io.sluice.nativeio.uring;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Structs and constants of linux/io_uring.h (https://github.com/torvalds/linux/blob/master/include/uapi/linux/io_uring.h).
 */
public final class IoUringLayouts
{
    public static final int IORING_OP_NOP = 0;
    public static final int IORING_OP_POLL_ADD = 6;
    public static final int IORING_OP_SENDMSG = 9;
    public static final int IORING_OP_RECVMSG = 10;
    public static final int IORING_OP_TIMEOUT = 11;
    public static final int IORING_OP_READ = 22;
    public static final int IORING_OP_WRITE = 23;
    public static final int IORING_OP_SEND = 26;
    public static final int IORING_OP_RECV = 27;

    /** sqe->flags. */
    public static final int IOSQE_BUFFER_SELECT = 1 << 5;
    /** sqe->ioprio for RECV/RECVMSG: keep the request armed, one CQE per datagram. */
    public static final int IORING_RECV_MULTISHOT = 1 << 1;
    /** cqe->flags. */
    public static final int IORING_CQE_F_BUFFER = 1 << 0;
    public static final int IORING_CQE_F_MORE = 1 << 1;
    public static final int IORING_CQE_BUFFER_SHIFT = 16;

    public static final int IORING_ENTER_GETEVENTS = 1 << 0;
    public static final int IORING_FEAT_SINGLE_MMAP = 1 << 0;
    public static final long IORING_OFF_SQ_RING = 0L;
    public static final long IORING_OFF_CQ_RING = 0x8000000L;
    public static final long IORING_OFF_SQES = 0x10000000L;
    public static final int IORING_REGISTER_PBUF_RING = 22;
    public static final int IORING_UNREGISTER_PBUF_RING = 23;

    /** struct io_sqring_offsets. */
    public static final StructLayout IO_SQRING_OFFSETS = MemoryLayout.structLayout(
        JAVA_INT.withName("head"), JAVA_INT.withName("tail"), JAVA_INT.withName("ring_mask"), JAVA_INT.withName("ring_entries"),
        JAVA_INT.withName("flags"), JAVA_INT.withName("dropped"), JAVA_INT.withName("array"), JAVA_INT.withName("resv1"),
        JAVA_LONG.withName("user_addr")).withName("io_sqring_offsets");

    /** struct io_cqring_offsets. */
    public static final StructLayout IO_CQRING_OFFSETS = MemoryLayout.structLayout(
        JAVA_INT.withName("head"), JAVA_INT.withName("tail"), JAVA_INT.withName("ring_mask"), JAVA_INT.withName("ring_entries"),
        JAVA_INT.withName("overflow"), JAVA_INT.withName("cqes"), JAVA_INT.withName("flags"), JAVA_INT.withName("resv1"),
        JAVA_LONG.withName("user_addr")).withName("io_cqring_offsets");

    /** struct io_uring_params. */
    public static final StructLayout IO_URING_PARAMS = MemoryLayout.structLayout(
        JAVA_INT.withName("sq_entries"), JAVA_INT.withName("cq_entries"), JAVA_INT.withName("flags"),
        JAVA_INT.withName("sq_thread_cpu"), JAVA_INT.withName("sq_thread_idle"), JAVA_INT.withName("features"),
        JAVA_INT.withName("wq_fd"), MemoryLayout.sequenceLayout(3, JAVA_INT).withName("resv"),
        IO_SQRING_OFFSETS.withName("sq_off"), IO_CQRING_OFFSETS.withName("cq_off")).withName("io_uring_params");

    /** struct io_uring_sqe (64 bytes; the unions named after their most common member). */
    public static final StructLayout IO_URING_SQE = MemoryLayout.structLayout(
        JAVA_BYTE.withName("opcode"), JAVA_BYTE.withName("flags"), JAVA_SHORT.withName("ioprio"), JAVA_INT.withName("fd"),
        JAVA_LONG.withName("off"), JAVA_LONG.withName("addr"), JAVA_INT.withName("len"), JAVA_INT.withName("op_flags"),
        JAVA_LONG.withName("user_data"), JAVA_SHORT.withName("buf_index"), JAVA_SHORT.withName("personality"),
        JAVA_INT.withName("splice_fd_in"), JAVA_LONG.withName("addr3"), JAVA_LONG.withName("pad2")).withName("io_uring_sqe");

    /** struct io_uring_cqe (without the CQE32 extension). */
    public static final StructLayout IO_URING_CQE = MemoryLayout.structLayout(
        JAVA_LONG.withName("user_data"), JAVA_INT.withName("res"), JAVA_INT.withName("flags")).withName("io_uring_cqe");

    /** struct io_uring_buf { __u64 addr; __u32 len; __u16 bid; __u16 resv; }: one provided buffer. */
    public static final StructLayout IO_URING_BUF = MemoryLayout.structLayout(
        JAVA_LONG.withName("addr"), JAVA_INT.withName("len"), JAVA_SHORT.withName("bid"), JAVA_SHORT.withName("resv"))
        .withName("io_uring_buf");

    /** struct io_uring_buf_reg { __u64 ring_addr; __u32 ring_entries; __u16 bgid; __u16 flags; __u64 resv[3]; }. */
    public static final StructLayout IO_URING_BUF_REG = MemoryLayout.structLayout(
        JAVA_LONG.withName("ring_addr"), JAVA_INT.withName("ring_entries"), JAVA_SHORT.withName("bgid"),
        JAVA_SHORT.withName("flags"), MemoryLayout.sequenceLayout(3, JAVA_LONG).withName("resv")).withName("io_uring_buf_reg");

    static final long SQE_OPCODE = 0;
    static final long SQE_FLAGS = 1;
    static final long SQE_IOPRIO = 2;
    static final long SQE_FD = 4;
    static final long SQE_OFF = 8;
    static final long SQE_ADDR = 16;
    static final long SQE_LEN = 24;
    static final long SQE_OP_FLAGS = 28;
    static final long SQE_USER_DATA = 32;
    static final long SQE_BUF_INDEX = 40;
    static final long CQE_USER_DATA = 0;
    static final long CQE_RES = 8;
    static final long CQE_FLAGS = 12;

    private IoUringLayouts()
    {
    }

    static long paramsOffset(final String ring, final String field)
    {
        return IO_URING_PARAMS.byteOffset(MemoryLayout.PathElement.groupElement(ring), MemoryLayout.PathElement.groupElement(field));
    }
}
