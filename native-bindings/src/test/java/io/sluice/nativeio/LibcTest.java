package io.sluice.nativeio;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LibcTest
{
    @Test
    void shouldReturnNegativeErrnoInsteadOfThrowing()
    {
        assertThat(Libc.close(-1)).isEqualTo(-Errno.EBADF);
        assertThat(Libc.socket(12345, Libc.SOCK_DGRAM, 0)).isEqualTo(-Errno.EAFNOSUPPORT);
    }

    @Test
    void shouldNameErrnoAndCarryCallAndHintInException()
    {
        assertThatThrownBy(() -> NativeException.check(Libc.close(-1), "close(-1)", "fd was never opened"))
            .isInstanceOfSatisfying(NativeException.class, ex ->
            {
                assertThat(ex.errno()).isEqualTo(Errno.EBADF);
                assertThat(ex.errnoName()).isEqualTo("EBADF");
                assertThat(ex.call()).isEqualTo("close(-1)");
                assertThat(ex.getMessage()).contains("close(-1) failed: EBADF (9); fd was never opened");
            });
        assertThat(Errno.name(95)).isEqualTo("EOPNOTSUPP");
        assertThat(Errno.name(-1)).isEqualTo("EPERM");
        assertThat(Errno.name(4000)).isEqualTo("errno 4000");
    }

    @Test
    void shouldCallSyscallDirectly()
    {
        assertThat(Libc.gettid()).isPositive();
        assertThat(Libc.possibleCpus()).isPositive();
        assertThat(Libc.ifNameToIndex("lo")).isEqualTo(1);
        assertThat(Libc.ifNameToIndex("nb-no-such")).isNegative();
    }
}
