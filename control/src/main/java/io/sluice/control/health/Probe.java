package io.sluice.control.health;

import io.sluice.control.config.ExpectedCode;
import io.sluice.control.config.Listener;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * One health probe of one server, blocking with the check's timeout (run on a virtual thread). Probes leave from the
 * kernel's own source address and an ephemeral port, which the XDP steering never redirects (only the SNAT port range
 * of local addresses is), so their replies reach the kernel, not the fastpath.
 */
final class Probe
{
    private Probe()
    {
    }

    /**
     * Runs the check once.
     *
     * @return null when healthy, else why not.
     */
    static String run(final Listener.HealthCheck check, final InetSocketAddress server)
    {
        final InetSocketAddress target = check.port() == 0 ? server : new InetSocketAddress(server.getAddress(), check.port());
        final int timeoutMs = check.timeoutSeconds() * 1000;
        try
        {
            return switch (check.type())
            {
                case TCP -> tcp(target, timeoutMs);
                case HTTP -> http(check, target, timeoutMs, false);
                case HTTPS -> http(check, target, timeoutMs, true);
                case UDP -> udp(check, target, timeoutMs);
            };
        }
        catch (final SocketTimeoutException ex)
        {
            return "timed out after " + check.timeoutSeconds() + " s";
        }
        catch (final IOException | GeneralSecurityException ex)
        {
            return ex.getClass().getSimpleName() + ": " + ex.getMessage();
        }
    }

    private static String tcp(final InetSocketAddress target, final int timeoutMs) throws IOException
    {
        try (Socket socket = new Socket())
        {
            socket.connect(target, timeoutMs);
            return null;
        }
    }

    private static String http(final Listener.HealthCheck check, final InetSocketAddress target, final int timeoutMs,
        final boolean tls) throws IOException, GeneralSecurityException
    {
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        final String host = check.host() != null ? check.host()
            : (target.getAddress().getAddress().length == 16 ? "[" + target.getAddress().getHostAddress() + "]"
                : target.getAddress().getHostAddress());
        try (Socket plain = new Socket())
        {
            plain.connect(target, timeoutMs);
            Socket socket = plain;
            if (tls)
            {
                final SSLSocket ssl = (SSLSocket)trustAll().getSocketFactory().createSocket(plain, host, target.getPort(), true);
                if (check.host() != null)
                {
                    final SSLParameters parameters = ssl.getSSLParameters();
                    parameters.setServerNames(List.of(new SNIHostName(check.host())));
                    ssl.setSSLParameters(parameters);
                }
                ssl.setSoTimeout(remaining(deadline));
                ssl.startHandshake();
                socket = ssl;
            }
            final String request = check.method().wireName() + " " + check.path() + " HTTP/1.1\r\nHost: " + host
                + "\r\nUser-Agent: sluice-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            socket.setSoTimeout(remaining(deadline));
            final String statusLine = readLine(socket.getInputStream());
            if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12)
            {
                return "not an HTTP response: \"" + statusLine + "\"";
            }
            final int code = Integer.parseInt(statusLine.substring(9, 12));
            return accepted(check.expectedCodes(), code) ? null : "status " + code + " is not in "
                + check.expectedCodes().stream().map(ExpectedCode::wireName).toList();
        }
        catch (final NumberFormatException ex)
        {
            return "bad status line";
        }
    }

    private static boolean accepted(final List<ExpectedCode> expected, final int code)
    {
        for (final ExpectedCode klass : expected)
        {
            if (code / 100 == klass.wireName().charAt(5) - '0')
            {
                return true;
            }
        }
        return false;
    }

    private static String udp(final Listener.HealthCheck check, final InetSocketAddress target, final int timeoutMs)
        throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket())
        {
            // Connected, so an ICMP port unreachable surfaces as PortUnreachableException.
            socket.connect(target);
            socket.setSoTimeout(timeoutMs);
            final byte[] payload = check.udpRequest().getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(payload, payload.length));
            final byte[] buffer = new byte[2048];
            final DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            try
            {
                socket.receive(reply);
            }
            catch (final SocketTimeoutException ex)
            {
                // No reply and no ICMP error: the port is open (what a UDP service that answers nothing looks like).
                return check.udpResponse() == null ? null : "no reply within " + check.timeoutSeconds() + " s";
            }
            catch (final PortUnreachableException ex)
            {
                return "ICMP port unreachable";
            }
            final String text = new String(buffer, 0, reply.getLength(), StandardCharsets.UTF_8);
            return check.udpResponse() == null || text.contains(check.udpResponse()) ? null
                : "reply does not contain \"" + check.udpResponse() + "\"";
        }
    }

    private static String readLine(final InputStream in) throws IOException
    {
        final StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n' && line.length() < 512)
        {
            if (c != '\r')
            {
                line.append((char)c);
            }
        }
        return line.toString();
    }

    private static int remaining(final long deadlineNs)
    {
        return (int)Math.max(1, (deadlineNs - System.nanoTime()) / 1_000_000);
    }

    /** Health checks judge liveness, not identity: backends commonly serve self-signed certificates. */
    private static SSLContext trustAll() throws GeneralSecurityException
    {
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager()
        {
            @Override
            public void checkClientTrusted(final X509Certificate[] chain, final String authType)
            {
            }

            @Override
            public void checkServerTrusted(final X509Certificate[] chain, final String authType)
            {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers()
            {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }
}
