package io.sluice.nativeio.bpf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.sluice.nativeio.bpf.BpfAssembler.R0;
import static io.sluice.nativeio.bpf.BpfAssembler.R1;
import static io.sluice.nativeio.bpf.BpfAssembler.R2;
import static io.sluice.nativeio.bpf.BpfAssembler.W;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpfTest
{
    @Test
    void shouldBeAvailableOnTheseMachines()
    {
        assertThat(Bpf.unavailabilityCause()).isNull();
        assertThat(Bpf.isAvailable()).isTrue();
    }

    @Test
    void shouldUpdateLookupIterateAndDeleteHashEntries()
    {
        try (BpfMap map = BpfMap.create(Bpf.BPF_MAP_TYPE_HASH, 4, 8, 16, "nb_hash"))
        {
            map.update(new byte[] {1, 2, 3, 4}, new byte[] {9, 9, 9, 9, 9, 9, 9, 9}, Bpf.BPF_ANY);
            map.update(new byte[] {5, 6, 7, 8}, new byte[8], Bpf.BPF_NOEXIST);
            assertThat(map.lookup(new byte[] {1, 2, 3, 4})).containsExactly(9, 9, 9, 9, 9, 9, 9, 9);
            assertThat(map.lookup(new byte[] {0, 0, 0, 0})).isNull();
            assertThat(map.keys()).hasSize(2);
            assertThat(map.delete(new byte[] {1, 2, 3, 4})).isTrue();
            assertThat(map.delete(new byte[] {1, 2, 3, 4})).isFalse();
            assertThat(map.keys()).hasSize(1);
        }
    }

    @Test
    void shouldSumPerCpuArrayAndUpdateArray()
    {
        try (BpfMap perCpu = BpfMap.create(Bpf.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, "nb_pcpu");
            BpfMap array = BpfMap.create(Bpf.BPF_MAP_TYPE_ARRAY, 4, 4, 4, "nb_array"))
        {
            final int cpus = perCpu.valueBytes() / 8;
            final ByteBuffer values = ByteBuffer.allocate(perCpu.valueBytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < cpus; i++)
            {
                values.putLong(i + 1);
            }
            perCpu.update(new byte[] {2, 0, 0, 0}, values.array(), Bpf.BPF_ANY);
            assertThat(perCpu.sumPerCpuLong(2)).isEqualTo((long)cpus * (cpus + 1) / 2);
            assertThat(perCpu.sumPerCpuLong(1)).isZero();

            array.updateInt(3, 77);
            assertThat(array.lookup(new byte[] {3, 0, 0, 0})).containsExactly(77, 0, 0, 0);
        }
    }

    @Test
    void shouldMatchLongestPrefixInLpmTrie()
    {
        // struct bpf_lpm_trie_key: u32 prefixlen (host order) + data (network order)
        try (BpfMap trie = BpfMap.create(Bpf.BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, "nb_lpm"))
        {
            trie.update(new byte[] {16, 0, 0, 0, (byte)198, 18, 0, 0}, new byte[] {1, 0, 0, 0}, Bpf.BPF_ANY);
            trie.update(new byte[] {24, 0, 0, 0, (byte)198, 18, 7, 0}, new byte[] {2, 0, 0, 0}, Bpf.BPF_ANY);
            assertThat(trie.lookup(new byte[] {32, 0, 0, 0, (byte)198, 18, 7, 9})).containsExactly(2, 0, 0, 0);
            assertThat(trie.lookup(new byte[] {32, 0, 0, 0, (byte)198, 18, 8, 9})).containsExactly(1, 0, 0, 0);
            assertThat(trie.lookup(new byte[] {32, 0, 0, 0, 10, 0, 0, 1})).isNull();
        }
    }

    @Test
    void shouldCreateXskMap()
    {
        try (BpfMap xsks = BpfMap.create(Bpf.BPF_MAP_TYPE_XSKMAP, 4, 4, 4, "nb_xsks"))
        {
            assertThat(xsks.fd()).isPositive();
            assertThat(xsks.maxEntries()).isEqualTo(4);
        }
    }

    @Test
    void shouldRunAssembledProgram()
    {
        final long[] program = new BpfAssembler()
            .mov64Imm(R0, 2)
            .ldx(W, R1, R1, 16)
            .jmpImm(BpfAssembler.JEQ, R1, 0, "done")
            .mov64Imm(R0, 1)
            .label("done")
            .exit()
            .assemble();
        final int fd = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, program, "nb_pass");
        try
        {
            assertThat(Bpf.testRun(fd, new byte[64]).retval()).isEqualTo(2);
        }
        finally
        {
            io.sluice.nativeio.Libc.close(fd);
        }
    }

    @Test
    void shouldCarryVerifierLogWhenProgramIsRefused()
    {
        // Reads the packet without a bounds check: the verifier refuses it and says why.
        final long[] program = new BpfAssembler()
            .ldx(W, R2, R1, 0)
            .ldx(W, R0, R2, 0)
            .exit()
            .assemble();
        assertThatThrownBy(() -> Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, program, "nb_invalid"))
            .isInstanceOfSatisfying(BpfVerifierException.class, ex ->
            {
                assertThat(ex.errnoName()).isEqualTo("EACCES");
                assertThat(ex.verifierLog()).contains("invalid access to packet");
                assertThat(ex.getMessage()).contains("verifier log").contains("invalid access to packet");
            });
    }

    @Test
    void shouldRefuseUndefinedLabel()
    {
        assertThatThrownBy(() -> new BpfAssembler().ja("nowhere").exit().assemble())
            .hasMessageContaining("undefined label: nowhere");
    }

    @Test
    void shouldAddAtomicallyToAMapValueAndZeroExtendA32BitMove()
    {
        try (BpfMap map = BpfMap.create(Bpf.BPF_MAP_TYPE_ARRAY, 4, 8, 1, "nb_atomic"))
        {
            final long[] program = new BpfAssembler()
                .st(W, BpfAssembler.R10, -8, 0)
                .ldMapFd(R1, map.fd())
                .mov64(R2, BpfAssembler.R10)
                .add64Imm(R2, -8)
                .call(BpfAssembler.FN_MAP_LOOKUP_ELEM)
                .jmpImm(BpfAssembler.JEQ, R0, 0, "out")
                .mov64Imm(R1, 5)
                .atomicAdd(BpfAssembler.DW, R0, 0, R1)
                .mov32Imm(R2, -1)
                .mov64(R0, R2)
                .alu64Imm(BpfAssembler.RSH, R0, 24)
                .exit()
                .label("out")
                .mov64Imm(R0, 0)
                .exit()
                .assemble();
            final int fd = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, program, "nb_atomic");
            try
            {
                for (int i = 0; i < 3; i++)
                {
                    assertThat(Bpf.testRun(fd, new byte[64]).retval()).as("0xFFFFFFFF >> 24: zero-extended").isEqualTo(0xFF);
                }
                final byte[] value = map.lookup(new byte[4]);
                assertThat(ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(15);
            }
            finally
            {
                io.sluice.nativeio.Libc.close(fd);
            }
        }
    }

    @Test
    void shouldCountLdImm64AsTwoSlotsInJumps()
    {
        final long[] program = new BpfAssembler()
            .mov64Imm(R0, 1)
            .jmpImm(BpfAssembler.JEQ, R0, 1, "after")
            .ldImm64(R2, 0x1122334455667788L)
            .label("after")
            .exit()
            .assemble();
        assertThat(program).hasSize(5);
        assertThat((short)(program[1] >>> 16)).isEqualTo((short)2);
    }
}
