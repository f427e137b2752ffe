#if canImport(Glibc)
import Glibc
#endif

/// A config, rule or IOC file that could not be read: where, and why.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the error is not about one place in the file.
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

extension IPAddress {
    /// Parses "203.0.113.7", "2001:db8::1" or "::ffff:203.0.113.7" (kept as
    /// written; matching normalizes). Nil for anything else.
    public init?(text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
        } else {
            return nil
        }
    }

    /// The address as a 128-bit big-endian pair; IPv4 (and IPv4-mapped) in
    /// the ::ffff:0:0/96 range, so one lookup serves both spellings.
    var key128: (hi: UInt64, lo: UInt64) {
        switch normalized {
        case .v4(let a): return (0, 0xffff_0000_0000 | UInt64(a))
        case .v6(let b):
            var hi: UInt64 = 0, lo: UInt64 = 0
            for i in 0..<8 { hi = hi << 8 | UInt64(b[i]) }
            for i in 8..<16 { lo = lo << 8 | UInt64(b[i]) }
            return (hi, lo)
        }
    }
}

/// An address range ("203.0.113.0/24", "2001:db8::/32", or one address).
/// IPv4 ranges are held in the IPv4-mapped space, so `::ffff:203.0.113.7`
/// falls in 203.0.113.0/24.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    let hi: UInt64, lo: UInt64
    /// Prefix length in the 128-bit space (an IPv4 /24 is 120).
    let bits: Int
    public let text: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let ip = IPAddress(text: String(parts[0])) else { return nil }
        // a prefix counts in the family the address is written in: "203.0.113.0/24"
        // and "::ffff:203.0.113.0/120" are the same range
        let writtenV4 = !parts[0].contains(":")
        var bits = 128
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[1]),
                  n <= (writtenV4 ? 32 : 128) else { return nil }
            bits = writtenV4 ? 96 + n : n
        }
        (hi, lo) = Self.mask(ip.key128, bits)
        self.bits = bits
        self.text = text
    }

    static func mask(_ k: (hi: UInt64, lo: UInt64), _ bits: Int) -> (UInt64, UInt64) {
        let hiMask: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : .max << (64 - bits))
        let loMask: UInt64 = bits <= 64 ? 0 : (bits == 128 ? .max : .max << (128 - bits))
        return (k.hi & hiMask, k.lo & loMask)
    }

    public func contains(_ ip: IPAddress) -> Bool {
        let (h, l) = Self.mask(ip.key128, bits)
        return h == hi && l == lo
    }

    public var description: String { text }
}

/// A set of ranges with a label per range (the IOC file and line it came
/// from). Lookup is one hash probe per distinct prefix length present.
public struct NetworkSet: Sendable {
    private struct Key: Hashable { let hi: UInt64, lo: UInt64 }
    private var byLength: [Int: [Key: String]] = [:]
    private var lengths: [Int] = []
    public private(set) var count = 0

    public init() {}

    public init(_ networks: [IPNetwork]) {
        for n in networks { insert(n, label: n.text) }
    }

    public mutating func insert(_ n: IPNetwork, label: String) {
        if byLength[n.bits] == nil {
            lengths.append(n.bits)
            lengths.sort(by: >)
        }
        if byLength[n.bits, default: [:]].updateValue(label, forKey: Key(hi: n.hi, lo: n.lo)) == nil { count += 1 }
    }

    /// The label of the longest range holding `ip`, if any.
    public func match(_ ip: IPAddress) -> String? {
        let k = ip.key128
        for bits in lengths {
            let (h, l) = IPNetwork.mask(k, bits)
            if let label = byLength[bits]?[Key(hi: h, lo: l)] { return label }
        }
        return nil
    }

    public func contains(_ ip: IPAddress) -> Bool { match(ip) != nil }

    public var isEmpty: Bool { count == 0 }
}

/// IOC lists: plain text, one address or CIDR range per line; `#` starts a
/// comment; blank lines are ignored.
public enum IOCList {
    /// Adds the file's entries to `set`, each labelled "file:line"; throws
    /// at the first bad entry with its line and column.
    public static func parse(_ text: String, file: String, into set: inout NetworkSet) throws(ConfigError) {
        var lineNo = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let start = line.firstIndex { $0 != " " && $0 != "\t" }
            guard let start else { continue }
            let entry = line[start...].prefix { $0 != " " && $0 != "\t" }
            let column = line.distance(from: line.startIndex, to: start) + 1
            let rest = line[entry.endIndex...]
            if let junk = rest.firstIndex(where: { $0 != " " && $0 != "\t" }) {
                throw ConfigError(file: file, line: lineNo, column: line.distance(from: line.startIndex, to: junk) + 1,
                                  "unexpected text after the address (one address or range per line)")
            }
            guard let net = IPNetwork(String(entry)) else {
                throw ConfigError(file: file, line: lineNo, column: column,
                                  "\"\(String(entry.prefix(80)).debugDescription.dropFirst().dropLast())\" is not an IPv4/IPv6 address or CIDR range")
            }
            set.insert(net, label: "\(file):\(lineNo)")
        }
    }
}
