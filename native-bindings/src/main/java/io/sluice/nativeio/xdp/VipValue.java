package io.sluice.nativeio.xdp;

/**
 * Value of the steering program's {@code vip_map} (8 bytes, host byte order):
 * <pre>
 *   0        1        2        4          6          8
 *   +--------+--------+--------+----------+----------+
 *   | action | pad    | pad    | port_lo  | port_hi  |
 *   +--------+--------+--------+----------+----------+
 * </pre>
 * port_lo/port_hi (inclusive) are used by LOCAL entries only: the SNAT port range redirected to the XSK.
 */
public final class VipValue
{
    public static final int LENGTH = 8;
    public static final int ACTION_OFFSET = 0;
    public static final int PORT_LO_OFFSET = 4;
    public static final int PORT_HI_OFFSET = 6;

    public static final int ACTION_REDIRECT = 1;
    public static final int ACTION_PASS = 2;
    public static final int ACTION_DROP = 3;
    public static final int ACTION_LOCAL = 4;

    private VipValue()
    {
    }

    /** @return value bytes for {@code action} with a port range (host order, little-endian). */
    public static byte[] of(final int action, final int portLo, final int portHi)
    {
        final byte[] value = new byte[LENGTH];
        value[ACTION_OFFSET] = (byte)action;
        value[PORT_LO_OFFSET] = (byte)portLo;
        value[PORT_LO_OFFSET + 1] = (byte)(portLo >>> 8);
        value[PORT_HI_OFFSET] = (byte)portHi;
        value[PORT_HI_OFFSET + 1] = (byte)(portHi >>> 8);
        return value;
    }
}
