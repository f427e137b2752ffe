import Synchronization
/// Human-readable names for the numbers in events, shared by both formatters.
public enum Describe {
    static let openFlagNames: [(UInt32, String)] = [
        (0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"), (0o4000, "O_NONBLOCK"), (0o10000, "O_DSYNC"), (0o200000, "O_DIRECTORY"),
        (0o400000, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"), (0o2000000, "O_CLOEXEC"),
        (0o4000000, "O___SYNC"), (0o10000000, "O_PATH"), (0o20000000, "O___TMPFILE"),
    ]

    /// "O_RDONLY|O_CLOEXEC"; bits without a name are kept in octal.
    public static func openFlags(_ flags: UInt32) -> String {
        // a program uses a handful of combinations: spell each once
        openFlagsSeen.withLock { seen in
            if let known = seen[flags] { return known }
            let text = spellOpenFlags(flags)
            if seen.count < 1024 { seen[flags] = text }
            return text
        }
    }

    private static let openFlagsSeen = Mutex<[UInt32: String]>([:])

    static func spellOpenFlags(_ flags: UInt32) -> String {
        var names = [["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(flags & 3)]]
        var rest = flags & ~3
        if rest & 0o20200000 == 0o20200000 { names.append("O_TMPFILE"); rest &= ~0o20200000 }
        if rest & 0o4010000 == 0o4010000 { names.append("O_SYNC"); rest &= ~0o4010000 }
        for (bit, name) in openFlagNames where rest & bit != 0 {
            names.append(name)
            rest &= ~bit
        }
        if rest != 0 { names.append("0o" + String(rest, radix: 8)) }
        return names.joined(separator: "|")
    }

    public static func socketType(_ type: UInt16) -> String? {
        switch type & 0xf {
        case 1: return "stream"
        case 2: return "dgram"
        case 3: return "raw"
        case 5: return "seqpacket"
        default: return nil
        }
    }

    /// ECS `network.transport`: from the socket's protocol, else its type.
    public static func transport(_ c: ConnectDetail) -> String? {
        switch c.protocolNumber {
        case 6: return "tcp"
        case 17: return "udp"
        case 1: return "icmp"
        case 58: return "ipv6-icmp"
        case 132: return "sctp"
        default: break
        }
        guard case .unix = c.address else {
            return c.socketType & 0xf == 1 ? "tcp" : c.socketType & 0xf == 2 ? "udp" : nil
        }
        return nil
    }

    /// "ok", "fd=3", "ENOENT", "EINPROGRESS".
    public static func result(_ e: Event) -> String {
        if let errno = e.errno { return ErrnoName.name(errno) }
        if case .open(let o) = e.detail { return "fd=\(o.result)" }
        return "ok"
    }

    static let atFDCWD: Int32 = -100
}
