package io.sluice.nativeio.netlink;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * rtnetlink (linux/rtnetlink.h, linux/netlink.h) for the interface facts and changes a node needs: interface index,
 * MAC, MTU, queue counts; listing, adding and removing addresses; neighbour (ARP/ND) entries and asking the kernel to
 * resolve one; route lookup.
 * <p>
 * One NETLINK_ROUTE socket per instance, opened in the calling thread's network namespace (see
 * {@link io.sluice.nativeio.NetNs}). Control path only: requests allocate. Not thread-safe.
 */
public final class Netlink implements AutoCloseable
{
    static final int NETLINK_ROUTE = 0;
    static final int NLMSG_HDRLEN = 16;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_MULTI = 0x2;
    static final int NLM_F_ACK = 0x4;
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_REPLACE = 0x100;
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_CREATE = 0x400;

    static final int RTM_GETLINK = 18;
    static final int RTM_NEWLINK = 16;
    static final int RTM_NEWADDR = 20;
    static final int RTM_DELADDR = 21;
    static final int RTM_GETADDR = 22;
    static final int RTM_NEWROUTE = 24;
    static final int RTM_GETROUTE = 26;
    static final int RTM_NEWNEIGH = 28;
    static final int RTM_GETNEIGH = 30;

    static final int IFLA_ADDRESS = 1;
    static final int IFLA_IFNAME = 3;
    static final int IFLA_MTU = 4;
    static final int IFLA_NUM_TX_QUEUES = 31;
    static final int IFLA_NUM_RX_QUEUES = 32;
    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int NDA_DST = 1;
    static final int NDA_LLADDR = 2;
    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RTA_PREFSRC = 7;
    static final int NTF_USE = 0x01;
    static final int RT_SCOPE_UNIVERSE = 0;
    static final int RT_SCOPE_HOST = 254;
    static final int IFF_UP = 0x1;
    /** ifaddrmsg.ifa_flags: skip duplicate address detection, so an IPv6 VIP answers (and can be bound) at once. */
    static final int IFA_F_NODAD = 0x02;

    /** Neighbour states (linux/neighbour.h NUD_*). */
    public static final int NUD_INCOMPLETE = 0x01;
    public static final int NUD_REACHABLE = 0x02;
    public static final int NUD_STALE = 0x04;
    public static final int NUD_DELAY = 0x08;
    public static final int NUD_PROBE = 0x10;
    public static final int NUD_FAILED = 0x20;
    public static final int NUD_NOARP = 0x40;
    public static final int NUD_PERMANENT = 0x80;
    /** States in which the entry's link-layer address can be used to send. */
    public static final int NUD_VALID = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;

    private static final int BUFFER_LENGTH = 1 << 16;

    /** An interface as RTM_NEWLINK describes it. */
    public record Link(int index, String name, byte[] mac, int mtu, int rxQueues, int txQueues, boolean up)
    {
    }

    /** An address assigned to an interface. */
    public record InterfaceAddress(int ifindex, InetAddress address, int prefixLength)
    {
    }

    /** A neighbour (ARP/ND) entry; {@code mac} is null while unresolved. */
    public record Neighbour(int ifindex, InetAddress address, byte[] mac, int state)
    {
        /** @return true when the MAC may be used to send (NUD_VALID). */
        public boolean usable()
        {
            return mac != null && (state & NUD_VALID) != 0;
        }
    }

    /** The kernel's route to a destination: output interface, gateway (null when on-link), preferred source. */
    public record Route(InetAddress destination, int ifindex, InetAddress gateway, InetAddress preferredSource)
    {
        /** @return the address whose MAC is needed to send there: the gateway, or the destination when on-link. */
        public InetAddress nextHop()
        {
            return gateway != null ? gateway : destination;
        }
    }

    private record Message(int type, int flags, MemorySegment payload)
    {
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(BUFFER_LENGTH, 8);
    private final MemorySegment kernelAddress = arena.allocate(12, 4);
    private final int fd;
    private int sequence = 1;

    /** Open a NETLINK_ROUTE socket in the calling thread's network namespace. */
    public Netlink()
    {
        fd = NativeException.check(Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, NETLINK_ROUTE),
            "socket(AF_NETLINK, NETLINK_ROUTE)", null);
        kernelAddress.set(JAVA_SHORT, 0, (short)Libc.AF_NETLINK);
    }

    @Override
    public void close()
    {
        Libc.close(fd);
        arena.close();
    }

    /** @return the index of interface {@code name}, or -1 when there is none. */
    public int linkIndex(final String name)
    {
        final int index = Libc.ifNameToIndex(name);
        return index > 0 ? index : -1;
    }

    /** @return the interface {@code name}; throws when absent. */
    public Link link(final String name)
    {
        final int index = linkIndex(name);
        if (index < 0)
        {
            throw new NativeException("if_nametoindex(" + name + ")", Errno.ENODEV, "no such interface in this namespace");
        }
        return link(index);
    }

    /** @return the interface with index {@code ifindex}; throws when absent. */
    public Link link(final int ifindex)
    {
        final Request request = new Request(RTM_GETLINK, NLM_F_REQUEST);
        request.u8(0).u8(0).u16(0).u32(ifindex).u32(0).u32(0);
        for (final Message message : call(request, "RTM_GETLINK"))
        {
            if (message.type == RTM_NEWLINK)
            {
                return parseLink(message.payload);
            }
        }
        throw new NativeException("RTM_GETLINK", Errno.ENODEV, "no reply for ifindex " + ifindex);
    }

    /** @return every interface in the namespace. */
    public List<Link> links()
    {
        final Request request = new Request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
        request.u8(0).u8(0).u16(0).u32(0).u32(0).u32(0);
        final List<Link> links = new ArrayList<>();
        for (final Message message : call(request, "RTM_GETLINK dump"))
        {
            if (message.type == RTM_NEWLINK)
            {
                links.add(parseLink(message.payload));
            }
        }
        return links;
    }

    private static Link parseLink(final MemorySegment payload)
    {
        final int index = payload.get(JAVA_INT, 4);
        final int flags = payload.get(JAVA_INT, 8);
        String name = null;
        byte[] mac = null;
        int mtu = 0;
        int rx = 1;
        int tx = 1;
        for (long offset = 16; offset + 4 <= payload.byteSize(); )
        {
            final int length = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset));
            final int type = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset + 2)) & 0x3fff;
            if (length < 4)
            {
                break;
            }
            final MemorySegment value = payload.asSlice(offset + 4, length - 4);
            switch (type)
            {
                case IFLA_IFNAME -> name = value.getString(0);
                case IFLA_ADDRESS -> mac = value.toArray(JAVA_BYTE);
                case IFLA_MTU -> mtu = value.get(JAVA_INT, 0);
                case IFLA_NUM_RX_QUEUES -> rx = value.get(JAVA_INT, 0);
                case IFLA_NUM_TX_QUEUES -> tx = value.get(JAVA_INT, 0);
                default ->
                {
                }
            }
            offset += align(length);
        }
        return new Link(index, name, mac, mtu, rx, tx, (flags & IFF_UP) != 0);
    }

    /** @return the addresses on {@code ifindex} (every interface when ifindex is 0). */
    public List<InterfaceAddress> addresses(final int ifindex)
    {
        final Request request = new Request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
        request.u8(0).u8(0).u8(0).u8(0).u32(0);
        final List<InterfaceAddress> addresses = new ArrayList<>();
        for (final Message message : call(request, "RTM_GETADDR dump"))
        {
            if (message.type != RTM_NEWADDR)
            {
                continue;
            }
            final MemorySegment payload = message.payload;
            final int prefix = Byte.toUnsignedInt(payload.get(JAVA_BYTE, 1));
            final int index = payload.get(JAVA_INT, 4);
            if (ifindex != 0 && index != ifindex)
            {
                continue;
            }
            byte[] local = null;
            byte[] address = null;
            for (long offset = 8; offset + 4 <= payload.byteSize(); )
            {
                final int length = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset));
                final int type = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset + 2));
                if (length < 4)
                {
                    break;
                }
                if (type == IFA_LOCAL)
                {
                    local = payload.asSlice(offset + 4, length - 4).toArray(JAVA_BYTE);
                }
                else if (type == IFA_ADDRESS)
                {
                    address = payload.asSlice(offset + 4, length - 4).toArray(JAVA_BYTE);
                }
                offset += align(length);
            }
            // For point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours when present.
            final byte[] ours = local != null ? local : address;
            if (ours != null)
            {
                addresses.add(new InterfaceAddress(index, inet(ours), prefix));
            }
        }
        return addresses;
    }

    /**
     * Add {@code address}/{@code prefixLength} to {@code ifindex}. IPv6 addresses are added without duplicate address
     * detection (IFA_F_NODAD): a VIP must answer neighbour solicitations, and be bindable, at once.
     *
     * @return true when added, false when it was already there (tolerated: a node may find its VIP present).
     */
    public boolean addAddress(final int ifindex, final InetAddress address, final int prefixLength)
    {
        final byte[] raw = address.getAddress();
        checkPrefix(raw, prefixLength);
        final Request request = new Request(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        request.u8(family(raw)).u8(prefixLength).u8(raw.length == 16 ? IFA_F_NODAD : 0).u8(RT_SCOPE_UNIVERSE).u32(ifindex);
        request.attribute(IFA_LOCAL, raw).attribute(IFA_ADDRESS, raw);
        final int errno = callForAck(request);
        if (errno == Errno.EEXIST)
        {
            return false;
        }
        NativeException.check(-errno, "RTM_NEWADDR " + address.getHostAddress() + "/" + prefixLength, "needs CAP_NET_ADMIN");
        return true;
    }

    /**
     * Remove {@code address}/{@code prefixLength} from {@code ifindex}.
     *
     * @return true when removed, false when it was not there.
     */
    public boolean removeAddress(final int ifindex, final InetAddress address, final int prefixLength)
    {
        final byte[] raw = address.getAddress();
        checkPrefix(raw, prefixLength);
        final Request request = new Request(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK);
        request.u8(family(raw)).u8(prefixLength).u8(0).u8(RT_SCOPE_UNIVERSE).u32(ifindex);
        request.attribute(IFA_LOCAL, raw).attribute(IFA_ADDRESS, raw);
        final int errno = callForAck(request);
        if (errno == Errno.EADDRNOTAVAIL || errno == Errno.ENOENT || errno == Errno.ENODEV)
        {
            return false;
        }
        NativeException.check(-errno, "RTM_DELADDR " + address.getHostAddress() + "/" + prefixLength, "needs CAP_NET_ADMIN");
        return true;
    }

    /** @return the neighbour entry for {@code address} on {@code ifindex}, if the kernel has one. */
    public Optional<Neighbour> neighbour(final int ifindex, final InetAddress address)
    {
        final byte[] raw = address.getAddress();
        final Request request = new Request(RTM_GETNEIGH, NLM_F_REQUEST);
        request.u8(family(raw)).u8(0).u16(0).u32(ifindex).u16(0).u8(0).u8(0);
        request.attribute(NDA_DST, raw);
        final Request.Reply reply = tryCall(request);
        if (reply.errno != 0)
        {
            if (reply.errno == Errno.ENOENT)
            {
                return Optional.empty();
            }
            throw new NativeException("RTM_GETNEIGH " + address.getHostAddress(), reply.errno, null);
        }
        for (final Message message : reply.messages)
        {
            if (message.type == RTM_NEWNEIGH)
            {
                return Optional.of(parseNeighbour(message.payload));
            }
        }
        return Optional.empty();
    }

    private static Neighbour parseNeighbour(final MemorySegment payload)
    {
        final int index = payload.get(JAVA_INT, 4);
        final int state = Short.toUnsignedInt(payload.get(JAVA_SHORT, 8));
        InetAddress dst = null;
        byte[] mac = null;
        for (long offset = 12; offset + 4 <= payload.byteSize(); )
        {
            final int length = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset));
            final int type = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset + 2));
            if (length < 4)
            {
                break;
            }
            if (type == NDA_DST)
            {
                dst = inet(payload.asSlice(offset + 4, length - 4).toArray(JAVA_BYTE));
            }
            else if (type == NDA_LLADDR)
            {
                mac = payload.asSlice(offset + 4, length - 4).toArray(JAVA_BYTE);
            }
            offset += align(length);
        }
        return new Neighbour(index, dst, mac, state);
    }

    /**
     * Ask the kernel to resolve {@code address} on {@code ifindex} (ARP request / neighbour solicitation), as if a
     * packet were sent there: RTM_NEWNEIGH with NTF_USE. Returns at once; poll {@link #neighbour} for the answer.
     */
    public void resolveNeighbour(final int ifindex, final InetAddress address)
    {
        final byte[] raw = address.getAddress();
        final Request request = new Request(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
        request.u8(family(raw)).u8(0).u16(0).u32(ifindex).u16(NUD_INCOMPLETE).u8(NTF_USE).u8(0);
        request.attribute(NDA_DST, raw);
        NativeException.check(-callForAck(request), "RTM_NEWNEIGH(NTF_USE) " + address.getHostAddress(), "needs CAP_NET_ADMIN");
    }

    /** @return the kernel's route to {@code destination} (RTM_GETROUTE), empty when unreachable. */
    public Optional<Route> route(final InetAddress destination)
    {
        final byte[] raw = destination.getAddress();
        final Request request = new Request(RTM_GETROUTE, NLM_F_REQUEST);
        request.u8(family(raw)).u8(raw.length * 8).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0);
        request.attribute(RTA_DST, raw);
        final Request.Reply reply = tryCall(request);
        if (reply.errno == Errno.ENETUNREACH || reply.errno == Errno.EHOSTUNREACH)
        {
            return Optional.empty();
        }
        if (reply.errno != 0)
        {
            throw new NativeException("RTM_GETROUTE " + destination.getHostAddress(), reply.errno, null);
        }
        for (final Message message : reply.messages)
        {
            if (message.type != RTM_NEWROUTE)
            {
                continue;
            }
            final MemorySegment payload = message.payload;
            int oif = 0;
            InetAddress gateway = null;
            InetAddress source = null;
            for (long offset = 12; offset + 4 <= payload.byteSize(); )
            {
                final int length = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset));
                final int type = Short.toUnsignedInt(payload.get(JAVA_SHORT, offset + 2));
                if (length < 4)
                {
                    break;
                }
                final MemorySegment value = payload.asSlice(offset + 4, length - 4);
                switch (type)
                {
                    case RTA_OIF -> oif = value.get(JAVA_INT, 0);
                    case RTA_GATEWAY -> gateway = inet(value.toArray(JAVA_BYTE));
                    case RTA_PREFSRC -> source = inet(value.toArray(JAVA_BYTE));
                    default ->
                    {
                    }
                }
                offset += align(length);
            }
            return Optional.of(new Route(destination, oif, gateway, source));
        }
        return Optional.empty();
    }

    private static void checkPrefix(final byte[] raw, final int prefixLength)
    {
        if (prefixLength < 0 || prefixLength > raw.length * 8)
        {
            throw new IllegalArgumentException("prefixLength: " + prefixLength + " is not in 0.." + raw.length * 8);
        }
    }

    private static int family(final byte[] raw)
    {
        return raw.length == 4 ? Libc.AF_INET : Libc.AF_INET6;
    }

    static int align(final int length)
    {
        return (length + 3) & ~3;
    }

    static InetAddress inet(final byte[] raw)
    {
        try
        {
            return InetAddress.getByAddress(raw);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("bad address length " + raw.length, ex);
        }
    }

    /** @return "aa:bb:cc:dd:ee:ff". */
    public static String formatMac(final byte[] mac)
    {
        final StringBuilder builder = new StringBuilder();
        for (int i = 0; i < mac.length; i++)
        {
            if (i > 0)
            {
                builder.append(':');
            }
            builder.append(String.format("%02x", mac[i] & 0xff));
        }
        return builder.toString();
    }

    /** @return true for an IPv4 address. */
    public static boolean isIpv4(final InetAddress address)
    {
        return address instanceof Inet4Address;
    }

    private List<Message> call(final Request request, final String what)
    {
        final Request.Reply reply = tryCall(request);
        if (reply.errno != 0)
        {
            throw new NativeException(what, reply.errno, reply.errno == Errno.EPERM ? "needs CAP_NET_ADMIN" : null);
        }
        return reply.messages;
    }

    private int callForAck(final Request request)
    {
        return tryCall(request).errno;
    }

    private Request.Reply tryCall(final Request request)
    {
        final int seq = sequence++;
        final byte[] bytes = request.finish(seq);
        MemorySegment.copy(bytes, 0, buffer, JAVA_BYTE, 0, bytes.length);
        final long sent = Libc.sendto(fd, buffer, bytes.length, 0, kernelAddress, 12);
        NativeException.check(sent, "sendto(netlink)", null);
        final List<Message> messages = new ArrayList<>();
        final boolean dump = (request.flags & NLM_F_DUMP) == NLM_F_DUMP;
        final boolean ack = (request.flags & NLM_F_ACK) != 0;
        while (true)
        {
            final long received = Libc.recvfrom(fd, buffer, BUFFER_LENGTH, 0, MemorySegment.NULL, MemorySegment.NULL);
            NativeException.check(received, "recvfrom(netlink)", null);
            long offset = 0;
            while (offset + NLMSG_HDRLEN <= received)
            {
                final int length = buffer.get(JAVA_INT, offset);
                final int type = Short.toUnsignedInt(buffer.get(JAVA_SHORT, offset + 4));
                final int flags = Short.toUnsignedInt(buffer.get(JAVA_SHORT, offset + 6));
                final int messageSeq = buffer.get(JAVA_INT, offset + 8);
                if (length < NLMSG_HDRLEN)
                {
                    break;
                }
                if (messageSeq == seq)
                {
                    if (type == NLMSG_ERROR)
                    {
                        final int error = buffer.get(JAVA_INT, offset + NLMSG_HDRLEN);
                        return new Request.Reply(-error, messages);
                    }
                    if (type == NLMSG_DONE)
                    {
                        return new Request.Reply(0, messages);
                    }
                    final MemorySegment payload = Arena.ofAuto().allocate(length - NLMSG_HDRLEN);
                    MemorySegment.copy(buffer, offset + NLMSG_HDRLEN, payload, 0, length - NLMSG_HDRLEN);
                    messages.add(new Message(type, flags, payload));
                    if (!dump && !ack && (flags & NLM_F_MULTI) == 0)
                    {
                        return new Request.Reply(0, messages);
                    }
                }
                offset += align(length);
            }
        }
    }

    /** A netlink request under construction: header written at finish, body and attributes appended. */
    private static final class Request
    {
        private record Reply(int errno, List<Message> messages)
        {
        }

        private final int type;
        private final int flags;
        private final java.nio.ByteBuffer body = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.nativeOrder());

        Request(final int type, final int flags)
        {
            this.type = type;
            this.flags = flags;
            body.position(NLMSG_HDRLEN);
        }

        Request u8(final int value)
        {
            body.put((byte)value);
            return this;
        }

        Request u16(final int value)
        {
            body.putShort((short)value);
            return this;
        }

        Request u32(final int value)
        {
            body.putInt(value);
            return this;
        }

        Request attribute(final int attributeType, final byte[] value)
        {
            body.putShort((short)(4 + value.length)).putShort((short)attributeType).put(value);
            while ((body.position() & 3) != 0)
            {
                body.put((byte)0);
            }
            return this;
        }

        byte[] finish(final int seq)
        {
            final int length = body.position();
            body.putInt(0, length).putShort(4, (short)type).putShort(6, (short)flags).putInt(8, seq).putInt(12, 0);
            final byte[] bytes = new byte[length];
            body.get(0, bytes);
            return bytes;
        }
    }
}
