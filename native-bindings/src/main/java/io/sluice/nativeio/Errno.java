package io.sluice.nativeio;

/**
 * Linux errno values (asm-generic/errno-base.h, asm-generic/errno.h) with their symbolic names, so failures
 * read as {@code EOPNOTSUPP} rather than {@code 95}.
 */
public final class Errno
{
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOSPC = 28;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int ENOTSUP = 95;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOBUFS = 105;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int EHOSTUNREACH = 113;
    public static final int EAFNOSUPPORT = 97;
    public static final int EPROTONOSUPPORT = 93;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EALREADY = 114;
    public static final int ENOTSOCK = 88;
    public static final int EMSGSIZE = 90;
    public static final int ENOPROTOOPT = 92;
    public static final int ECANCELED = 125;
    public static final int E2SMALL = 7;

    private static final String[] NAMES = new String[134];

    static
    {
        final String[] pairs = {
            "1", "EPERM", "2", "ENOENT", "3", "ESRCH", "4", "EINTR", "5", "EIO", "6", "ENXIO", "7", "E2BIG",
            "8", "ENOEXEC", "9", "EBADF", "10", "ECHILD", "11", "EAGAIN", "12", "ENOMEM", "13", "EACCES", "14", "EFAULT",
            "16", "EBUSY", "17", "EEXIST", "18", "EXDEV", "19", "ENODEV", "20", "ENOTDIR", "21", "EISDIR", "22", "EINVAL",
            "23", "ENFILE", "24", "EMFILE", "25", "ENOTTY", "27", "EFBIG", "28", "ENOSPC", "32", "EPIPE", "34", "ERANGE",
            "38", "ENOSYS", "61", "ENODATA", "71", "EPROTO", "74", "EBADMSG", "75", "EOVERFLOW", "88", "ENOTSOCK",
            "89", "EDESTADDRREQ", "90", "EMSGSIZE", "91", "EPROTOTYPE", "92", "ENOPROTOOPT", "93", "EPROTONOSUPPORT",
            "94", "ESOCKTNOSUPPORT", "95", "EOPNOTSUPP", "96", "EPFNOSUPPORT", "97", "EAFNOSUPPORT", "98", "EADDRINUSE",
            "99", "EADDRNOTAVAIL", "100", "ENETDOWN", "101", "ENETUNREACH", "103", "ECONNABORTED", "104", "ECONNRESET",
            "105", "ENOBUFS", "106", "EISCONN", "107", "ENOTCONN", "110", "ETIMEDOUT", "111", "ECONNREFUSED",
            "113", "EHOSTUNREACH", "114", "EALREADY", "115", "EINPROGRESS", "125", "ECANCELED", "524", "ENOTSUPP",
        };
        for (int i = 0; i < pairs.length; i += 2)
        {
            final int value = Integer.parseInt(pairs[i]);
            if (value < NAMES.length)
            {
                NAMES[value] = pairs[i + 1];
            }
        }
    }

    private Errno()
    {
    }

    /**
     * @param errno a positive errno value (a negative one is accepted and negated).
     * @return the symbolic name, or {@code errno N} when unknown.
     */
    public static String name(final int errno)
    {
        final int value = Math.abs(errno);
        if (value == 524)
        {
            return "ENOTSUPP";
        }
        final String name = value < NAMES.length ? NAMES[value] : null;
        return name != null ? name : "errno " + value;
    }
}
