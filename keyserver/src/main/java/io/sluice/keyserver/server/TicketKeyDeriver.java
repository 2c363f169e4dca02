package io.sluice.keyserver.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Session-ticket keys derived from one secret and the wall-clock period: key(i) = HMAC-SHA256(secret, label || i || n)
 * for n = 0, 1, giving name 16 | HMAC key 16 | AES key 16. Every key server holding the same secret (and a clock within
 * a period) serves the same keys, so a ticket issued by any node resumes on any other with no coordination.
 * The list is current, previous, next: encrypt with current, accept tickets from the period before (and after, for clock skew).
 */
public final class TicketKeyDeriver
{
    private static final byte[] LABEL = "sluice session ticket key v1".getBytes(StandardCharsets.US_ASCII);

    private final byte[] secret;
    private final long periodMs;

    public TicketKeyDeriver(final byte[] secret, final long periodMs)
    {
        this.secret = secret.clone();
        this.periodMs = periodMs;
    }

    public long periodMs()
    {
        return periodMs;
    }

    /**
     * @param nowMs wall clock.
     * @return keys for the current, previous and next period, 48 bytes each.
     */
    public List<byte[]> keysAt(final long nowMs)
    {
        final long index = Math.floorDiv(nowMs, periodMs);
        final List<byte[]> keys = new ArrayList<>(3);
        keys.add(key(index));
        keys.add(key(index - 1));
        keys.add(key(index + 1));
        return keys;
    }

    /**
     * @param nowMs wall clock.
     * @return ms until the next period starts.
     */
    public long msUntilNextRotation(final long nowMs)
    {
        return periodMs - Math.floorMod(nowMs, periodMs);
    }

    private byte[] key(final long index)
    {
        try
        {
            final Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            final byte[] out = new byte[48];
            for (int n = 0; n < 2; n++)
            {
                mac.update(LABEL);
                mac.update(ByteBuffer.allocate(9).putLong(index).put((byte)n).array());
                final byte[] block = mac.doFinal();
                System.arraycopy(block, 0, out, n * 32, Math.min(32, 48 - n * 32));
            }
            return out;
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
