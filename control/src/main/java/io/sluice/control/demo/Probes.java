package io.sluice.control.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * One request of each protocol, as a client in whatever network namespace the calling thread is in. Every request uses
 * a new connection (a new UDP socket), so a new source port, so the router's ECMP hash spreads requests over both LB
 * nodes. A request that does not get the right answer throws with the reason.
 */
final class Probes
{
    /** Longest wait for a connection (or a UDP answer): a request sent to a dead node fails this late. */
    static final int TIMEOUT_MS = 1000;
    /**
     * Longest wait for an answer on an established connection: a TLS handshake plus a proxied request can take over a
     * second on a 2-core machine shared with builds, which is slowness, not a lost request.
     */
    static final int READ_TIMEOUT_MS = 2000;

    /** One request. */
    interface Probe
    {
        /** Sends one request and checks the answer; returns the backend that served it when known, else null. */
        String once(long sequence) throws Exception;
    }

    private Probes()
    {
    }

    static Probe tcpEcho(final String vip, final int port)
    {
        return sequence ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(vip, port), TIMEOUT_MS);
                socket.setSoTimeout(READ_TIMEOUT_MS);
                final byte[] request = ("sluice demo tcp " + sequence + "\n").getBytes(StandardCharsets.US_ASCII);
                socket.getOutputStream().write(request);
                final byte[] answer = socket.getInputStream().readNBytes(request.length);
                if (!Arrays.equals(request, answer))
                {
                    throw new IOException("echo mismatch (" + answer.length + " of " + request.length + " bytes)");
                }
                return null;
            }
        };
    }

    static Probe udpEcho(final String vip, final int port)
    {
        final InetAddress address;
        try
        {
            address = InetAddress.getByName(vip);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException(vip, ex);
        }
        return sequence ->
        {
            // a socket per request: a new source port, a new flow for the router's hash and the fastpath's sessions
            try (DatagramSocket socket = new DatagramSocket())
            {
                socket.setSoTimeout(TIMEOUT_MS);
                final byte[] request = ("sluice demo udp " + sequence).getBytes(StandardCharsets.US_ASCII);
                socket.send(new DatagramPacket(request, request.length, address, port));
                final byte[] buffer = new byte[512];
                final DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
                socket.receive(answer);
                if (!Arrays.equals(request, 0, request.length, buffer, 0, answer.getLength()))
                {
                    throw new IOException("echo mismatch (" + answer.getLength() + " bytes)");
                }
                return null;
            }
        };
    }

    static Probe http(final String vip, final int port)
    {
        return sequence ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(vip, port), TIMEOUT_MS);
                socket.setSoTimeout(READ_TIMEOUT_MS);
                return get(socket, vip);
            }
        };
    }

    /** HTTPS with SNI {@link DemoConfig#HOST_NAME}, trusting only the demo CA. */
    static Probe https(final String vip, final int port, final Path caCertificate) throws Exception
    {
        final SSLContext context = trusting(caCertificate);
        return sequence ->
        {
            try (SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket())
            {
                socket.connect(new InetSocketAddress(vip, port), TIMEOUT_MS);
                socket.setSoTimeout(READ_TIMEOUT_MS);
                final SSLParameters parameters = socket.getSSLParameters();
                parameters.setServerNames(List.of(new SNIHostName(DemoConfig.HOST_NAME)));
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                parameters.setApplicationProtocols(new String[] {"http/1.1"});
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                return get(socket, DemoConfig.HOST_NAME);
            }
        };
    }

    private static SSLContext trusting(final Path caCertificate) throws Exception
    {
        final KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caCertificate))
        {
            trust.setCertificateEntry("demo-ca", (X509Certificate)CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        final TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    /** GET / over a connected socket; returns the X-Backend header of a 200 answer. */
    private static String get(final Socket socket, final String host) throws IOException
    {
        final OutputStream out = socket.getOutputStream();
        out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: sluice-demo\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        final ByteArrayOutputStream response = new ByteArrayOutputStream();
        final InputStream in = socket.getInputStream();
        final byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) > 0 && response.size() < (1 << 20))
        {
            response.write(buffer, 0, n);
        }
        final String text = response.toString(StandardCharsets.ISO_8859_1);
        if (text.isEmpty())
        {
            throw new IOException("connection closed without a response");
        }
        final int lineEnd = text.indexOf("\r\n");
        final String status = lineEnd < 0 ? text : text.substring(0, lineEnd);
        if (!status.startsWith("HTTP/1.1 200") && !status.startsWith("HTTP/1.0 200"))
        {
            throw new IOException("answer '" + status.strip() + "'");
        }
        for (final String line : text.substring(0, Math.max(0, text.indexOf("\r\n\r\n"))).split("\r\n"))
        {
            if (line.toLowerCase(Locale.ROOT).startsWith("x-backend:"))
            {
                return line.substring("x-backend:".length()).strip();
            }
        }
        return null;
    }
}
