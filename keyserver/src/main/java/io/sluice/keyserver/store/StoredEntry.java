package io.sluice.keyserver.store;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One entry of a key directory: a certificate chain with its private key, or a CA certificate for mutual TLS.
 * Serialised (before sealing) as: kind byte, name (UTF), imported-at millis, cert count, (length, DER) per cert,
 * key length, key PEM bytes (0 for a CA).
 *
 * @param kind what the entry is.
 * @param name the operator's name for it, as listeners refer to it.
 * @param importedAtMs wall-clock import time.
 * @param chainDer leaf first, then intermediates (roots are left out: clients have them).
 * @param keyPem the private key exactly as imported (PEM), empty for a CA.
 */
public record StoredEntry(Kind kind, String name, long importedAtMs, List<byte[]> chainDer, byte[] keyPem)
{
    /** Names are file names too: letters, digits, dot, dash, underscore, not starting with a dot. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}");

    /** What an entry holds. */
    public enum Kind
    {
        CERTIFICATE(1), CA(2);

        private final int code;

        Kind(final int code)
        {
            this.code = code;
        }

        public int code()
        {
            return code;
        }

        public static Kind fromCode(final int code)
        {
            return switch (code)
            {
                case 1 -> CERTIFICATE;
                case 2 -> CA;
                default -> throw new IllegalArgumentException("unknown entry kind " + code);
            };
        }
    }

    /**
     * @return SHA-256 of the leaf certificate's DER: the key id of IPC requests.
     */
    public byte[] keyId()
    {
        return sha256(chainDer.getFirst());
    }

    /**
     * @return the chain parsed.
     */
    public List<X509Certificate> certificates()
    {
        try
        {
            final CertificateFactory cf = CertificateFactory.getInstance("X.509");
            final List<X509Certificate> certs = new ArrayList<>();
            for (final byte[] der : chainDer)
            {
                certs.add((X509Certificate)cf.generateCertificate(new ByteArrayInputStream(der)));
            }
            return certs;
        }
        catch (final CertificateException ex)
        {
            throw new IllegalStateException("stored certificate of " + name + " does not parse", ex);
        }
    }

    /** Overwrite the private key bytes once they are loaded into the crypto provider. */
    public void wipeKey()
    {
        Arrays.fill(keyPem, (byte)0);
    }

    byte[] serialise()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes))
        {
            out.writeByte(kind.code());
            out.writeUTF(name);
            out.writeLong(importedAtMs);
            out.writeInt(chainDer.size());
            for (final byte[] der : chainDer)
            {
                out.writeInt(der.length);
                out.write(der);
            }
            out.writeInt(keyPem.length);
            out.write(keyPem);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        return bytes.toByteArray();
    }

    static StoredEntry deserialise(final byte[] plain) throws IOException
    {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(plain)))
        {
            final Kind kind = Kind.fromCode(in.readUnsignedByte());
            final String name = in.readUTF();
            final long importedAt = in.readLong();
            final int count = in.readInt();
            if (count < 1 || count > 16)
            {
                throw new IOException("entry " + name + " has " + count + " certificates");
            }
            final List<byte[]> chain = new ArrayList<>(count);
            for (int i = 0; i < count; i++)
            {
                chain.add(in.readNBytes(checkedLength(in.readInt())));
            }
            final byte[] key = in.readNBytes(checkedLength(in.readInt()));
            return new StoredEntry(kind, name, importedAt, List.copyOf(chain), key);
        }
    }

    private static int checkedLength(final int length) throws IOException
    {
        if (length < 0 || length > 1 << 20)
        {
            throw new IOException("entry field length " + length + " out of range");
        }
        return length;
    }

    static byte[] sha256(final byte[] data)
    {
        try
        {
            return MessageDigest.getInstance("SHA-256").digest(data);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
