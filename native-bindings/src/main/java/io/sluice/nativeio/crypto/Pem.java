package io.sluice.nativeio.crypto;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Minimal PEM reading: the DER blocks of a given label, in file order. */
public final class Pem
{
    private Pem()
    {
    }

    /** One PEM block. */
    public record Block(String label, byte[] der)
    {
    }

    /**
     * @param pem PEM text (other text between blocks is ignored, as openssl does).
     * @return every block in order.
     */
    public static List<Block> blocks(final byte[] pem)
    {
        final String text = new String(pem, StandardCharsets.US_ASCII);
        final List<Block> blocks = new ArrayList<>();
        int from = 0;
        while (true)
        {
            final int begin = text.indexOf("-----BEGIN ", from);
            if (begin < 0)
            {
                return blocks;
            }
            final int labelEnd = text.indexOf("-----", begin + 11);
            if (labelEnd < 0)
            {
                return blocks;
            }
            final String label = text.substring(begin + 11, labelEnd);
            final String endMarker = "-----END " + label + "-----";
            final int end = text.indexOf(endMarker, labelEnd);
            if (end < 0)
            {
                throw new IllegalArgumentException("PEM block " + label + " has no END line");
            }
            final String body = text.substring(labelEnd + 5, end).replaceAll("\\s", "");
            if (body.contains(":"))
            {
                throw new IllegalArgumentException("PEM block " + label + " is encrypted; give an unencrypted key");
            }
            blocks.add(new Block(label, Base64.getDecoder().decode(body)));
            from = end + endMarker.length();
        }
    }
}
