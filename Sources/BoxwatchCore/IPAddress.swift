/// An IP address taken from a sockaddr, with the text forms people and IOC
/// lists use (RFC 5952 for IPv6, dotted quad for IPv4-mapped addresses).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)                 // host order: 127.0.0.1 is 0x7f000001
    case v6([UInt8])                // 16 bytes, network order

    public init(v4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self = .v4(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// `::ffff:a.b.c.d` — an IPv4 peer reached through an AF_INET6 socket.
    public var isIPv4Mapped: Bool {
        guard case .v6(let b) = self else { return false }
        return b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff
    }

    /// The IPv4 address behind an IPv4-mapped IPv6 address; otherwise self.
    /// IOC matching compares this form, so both spellings score alike.
    public var normalized: IPAddress {
        guard isIPv4Mapped, case .v6(let b) = self else { return self }
        return IPAddress(v4: b[12], b[13], b[14], b[15])
    }

    public var isLoopback: Bool {
        switch normalized {
        case .v4(let a): return a >> 24 == 127
        case .v6(let b): return b[0..<15].allSatisfy { $0 == 0 } && b[15] == 1
        }
    }

    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\(a >> 16 & 0xff).\(a >> 8 & 0xff).\(a & 0xff)"
        case .v6(let b):
            if isIPv4Mapped { return "::ffff:" + normalized.description }
            return Self.formatV6(b)
        }
    }

    /// RFC 5952: lower-case hex, leading zeros dropped, the longest run of two
    /// or more zero groups (the first, on a tie) written as "::".
    static func formatV6(_ b: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            guard groups[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
            i = j
        }
        func hex(_ r: Range<Int>) -> String {
            r.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLen)..<8)
    }
}

/// The destination of a connect(), decoded from the raw sockaddr bytes.
public enum SocketAddress: Hashable, Sendable {
    case inet(IPAddress, port: UInt16)
    case inet6(IPAddress, port: UInt16, flowInfo: UInt32, scopeID: UInt32)
    case unix(path: String, abstract: Bool)
    /// AF_UNSPEC (disconnects a datagram socket) or a family we do not decode.
    case other(family: UInt16)
    /// Too few bytes for the family the sockaddr claims.
    case malformed(family: UInt16, length: Int)
    /// No sockaddr could be read (NULL or unreadable pointer).
    case unreadable

    public static let AF_UNIX: UInt16 = 1, AF_INET: UInt16 = 2, AF_INET6: UInt16 = 10

    /// Decodes `bytes` (the first `addr_len` bytes of the record's copy).
    public init(bytes: ArraySlice<UInt8>) {
        let b = Array(bytes)
        guard b.count >= 2 else { self = .unreadable; return }
        let family = UInt16(b[0]) | UInt16(b[1]) << 8  // sa_family is host order
        func be16(_ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
        func le32(_ i: Int) -> UInt32 {
            UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
        }
        switch family {
        case Self.AF_INET:
            guard b.count >= 8 else { self = .malformed(family: family, length: b.count); return }
            self = .inet(IPAddress(v4: b[4], b[5], b[6], b[7]), port: be16(2))
        case Self.AF_INET6:
            // sockaddr_in6 is 28 bytes; the kernel accepts 24 (no scope id)
            guard b.count >= 24 else { self = .malformed(family: family, length: b.count); return }
            self = .inet6(.v6(Array(b[8..<24])), port: be16(2),
                          flowInfo: UInt32(bigEndian: le32(4)), scopeID: b.count >= 28 ? le32(24) : 0)
        case Self.AF_UNIX:
            let raw = b[2...]
            let abstract = raw.first == 0
            let body = abstract ? raw.dropFirst() : raw
            let text = abstract ? Array(body) : Array(body.prefix { $0 != 0 })
            self = .unix(path: String(decoding: text, as: UTF8.self), abstract: abstract)
        default:
            self = .other(family: family)
        }
    }

    public var ip: IPAddress? {
        switch self {
        case .inet(let a, _), .inet6(let a, _, _, _): return a
        default: return nil
        }
    }

    public var port: UInt16? {
        switch self {
        case .inet(_, let p), .inet6(_, let p, _, _): return p
        default: return nil
        }
    }

    public var familyName: String {
        switch self {
        case .inet: return "inet"
        case .inet6: return "inet6"
        case .unix: return "unix"
        case .other(let f), .malformed(let f, _): return "family-\(f)"
        case .unreadable: return "unreadable"
        }
    }

    /// "127.0.0.1:9", "[2001:db8::7]:443", "unix:/run/x.sock", "unix:@abstract".
    public var description: String {
        switch self {
        case .inet(let a, let p): return "\(a):\(p)"
        case .inet6(let a, let p, _, _): return "[\(a)]:\(p)"
        case .unix(let path, let abstract): return "unix:" + (abstract ? "@" : "") + path
        case .other(let f): return "family-\(f)"
        case .malformed(let f, let n): return "family-\(f)(\(n) bytes, malformed)"
        case .unreadable: return "unreadable"
        }
    }
}
