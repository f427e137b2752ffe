/// A small JSON writer: keys in the order written, no intermediate tree.
/// Writes UTF-8 bytes into one raw buffer it owns (noncopyable, freed with
/// it): no per-field String, no array uniqueness or exclusivity checks on the
/// hot path of `tail --json`.
public struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var needsComma = false

    public init() {
        capacity = 2048
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    public var text: String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ need: Int) {
        let bigger = max(need, capacity * 2)
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = bigger
    }

    @inline(__always) private mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always) private mutating func bytes(_ u: UnsafeRawBufferPointer) {
        reserve(u.count)
        if let src = u.baseAddress { (base + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: u.count) }
        count += u.count
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        open(UInt8(ascii: "{")); body(&self); close(UInt8(ascii: "}"))
    }

    public mutating func object(_ key: StaticString, _ body: (inout JSONWriter) -> Void) {
        self.key(key); open(UInt8(ascii: "{")); body(&self); close(UInt8(ascii: "}"))
    }

    /// An array whose elements `body` writes (e.g. with `object { }`).
    public mutating func array(_ key: StaticString, _ body: (inout JSONWriter) -> Void) {
        self.key(key); open(UInt8(ascii: "[")); body(&self); close(UInt8(ascii: "]"))
    }

    public mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key); string(value); needsComma = true
    }

    public mutating func field<I: FixedWidthInteger>(_ key: StaticString, _ value: I?) {
        guard let value else { return }
        self.key(key); decimal(value); needsComma = true
    }

    public mutating func field(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        value ? Self.trueText.withUTF8Buffer { bytes(UnsafeRawBufferPointer($0)) }
              : Self.falseText.withUTF8Buffer { bytes(UnsafeRawBufferPointer($0)) }
        needsComma = true
    }

    public mutating func field(_ key: StaticString, _ values: [String]?) {
        guard let values else { return }
        self.key(key)
        byte(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            string(v)
        }
        byte(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A time as an RFC 3339 string with nanoseconds, "2026-12-03T21:40:36.123456789Z".
    public mutating func field(_ key: StaticString, _ time: UTCTime) {
        self.key(key)
        byte(UInt8(ascii: "\""))
        reserve(UTCTime.iso8601Length)
        time.writeISO8601(to: base + count)
        count += UTCTime.iso8601Length
        byte(UInt8(ascii: "\""))
        needsComma = true
    }

    private static let trueText: StaticString = "true", falseText: StaticString = "false"

    /// A key the program spells (a literal): written as it is.
    private mutating func key(_ k: StaticString) {
        // withUTF8Buffer: a one-character literal may be stored as a scalar, with no pointer
        k.withUTF8Buffer { u in
            reserve(u.count + 4)
            if needsComma { base[count] = UInt8(ascii: ","); count += 1 }
            base[count] = UInt8(ascii: "\"")
            if let src = u.baseAddress { (base + count + 1).update(from: src, count: u.count) }
            count += u.count + 1
            base[count] = UInt8(ascii: "\""); base[count + 1] = UInt8(ascii: ":")
            count += 2
        }
        needsComma = false
    }

    /// A key from outside (container labels) or computed: escaped.
    private mutating func key(named k: String) {
        if needsComma { byte(UInt8(ascii: ",")) }
        string(k)
        byte(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func field(named key: String, _ value: String?) {
        guard let value else { return }
        self.key(named: key); string(value); needsComma = true
    }

    public mutating func field<I: FixedWidthInteger>(named key: String, _ value: I?) {
        guard let value else { return }
        self.key(named: key); decimal(value); needsComma = true
    }

    public mutating func field(named key: String, _ value: Bool) {
        self.key(named: key)
        value ? Self.trueText.withUTF8Buffer { bytes(UnsafeRawBufferPointer($0)) }
              : Self.falseText.withUTF8Buffer { bytes(UnsafeRawBufferPointer($0)) }
        needsComma = true
    }

    private mutating func open(_ c: UInt8) {
        if needsComma { byte(UInt8(ascii: ",")) }
        byte(c)
        needsComma = false
    }

    private mutating func close(_ c: UInt8) {
        byte(c)
        needsComma = true
    }

    private mutating func decimal<I: FixedWidthInteger>(_ value: I) {
        reserve(21)
        if value < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var m = UInt64(value.magnitude)  // the integers written are 64 bits at most
        var digits = 1
        var t = m
        while t >= 10 { t /= 10; digits += 1 }
        var i = count + digits
        count = i
        repeat {
            i -= 1
            base[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: m % 10)
            m /= 10
        } while m != 0
    }

    private mutating func string(_ s: String) {
        byte(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            // nothing to escape (the usual case): one copy
            if Self.isClean(u) { bytes(UnsafeRawBufferPointer(u)) } else { escaped(u) }
        }
        byte(UInt8(ascii: "\""))
    }

    /// No byte needs escaping: eight at a time (a byte below 0x20, or equal
    /// to '"', '\\' or DEL, makes the word test true), then the tail.
    static func isClean(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = u.baseAddress else { return true }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        var i = 0
        while i + 8 <= u.count {
            let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            if (w &- ones &* 0x20) & ~w & highs != 0 || hasZero(w ^ (ones &* 0x22)) || hasZero(w ^ (ones &* 0x5c))
                || hasZero(w ^ (ones &* 0x7f)) { return false }
            i += 8
        }
        while i < u.count {
            if needsEscape(p[i]) { return false }
            i += 1
        }
        return true
    }

    @inline(__always) static func needsEscape(_ b: UInt8) -> Bool {
        b < 0x20 || b == 0x22 || b == 0x5c || b == 0x7f
    }

    private static let hex: StaticString = "0123456789abcdef"

    private mutating func escaped(_ u: UnsafeBufferPointer<UInt8>) {
        for b in u {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte(UInt8(ascii: "\\")); byte(b)
            case UInt8(ascii: "\n"): byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "t"))
            case 0..<0x20, 0x7f:
                for c in "\\u00".utf8 { byte(c) }
                byte(Self.hex.utf8Start[Int(b >> 4)]); byte(Self.hex.utf8Start[Int(b & 15)])
            default: byte(b)
            }
        }
    }
}
