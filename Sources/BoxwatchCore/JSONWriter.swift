/// A small JSON writer: keys in the order written, no intermediate tree.
/// Writes UTF-8 bytes into one buffer (a line of output costs one String
/// at the end, not one per field).
public struct JSONWriter {
    private var bytes: [UInt8] = []
    private var needsComma = false

    public init() { bytes.reserveCapacity(1024) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        open(UInt8(ascii: "{")); body(&self); close(UInt8(ascii: "}"))
    }

    public mutating func object(_ key: String, _ body: (inout JSONWriter) -> Void) {
        self.key(key); open(UInt8(ascii: "{")); body(&self); close(UInt8(ascii: "}"))
    }

    /// An array whose elements `body` writes (e.g. with `object { }`).
    public mutating func array(_ key: String, _ body: (inout JSONWriter) -> Void) {
        self.key(key); open(UInt8(ascii: "[")); body(&self); close(UInt8(ascii: "]"))
    }

    public mutating func field(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key); Self.appendString(value, to: &bytes); needsComma = true
    }

    public mutating func field<I: FixedWidthInteger>(_ key: String, _ value: I?) {
        guard let value else { return }
        self.key(key); Self.appendDecimal(value, to: &bytes); needsComma = true
    }

    public mutating func field(_ key: String, _ value: Bool?) {
        guard let value else { return }
        self.key(key); bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes); needsComma = true
    }

    public mutating func field(_ key: String, _ values: [String]?) {
        guard let values else { return }
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendString(v, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A time as an RFC 3339 string with nanoseconds, "2026-12-03T21:40:36.123456789Z".
    public mutating func field(_ key: String, _ time: UTCTime) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        time.appendISO8601(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    private static let trueBytes = Array("true".utf8), falseBytes = Array("false".utf8)

    /// Keys are escaped too: some (container labels) come from outside.
    private mutating func key(_ k: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        Self.appendString(k, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    private mutating func open(_ c: UInt8) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(c)
        needsComma = false
    }

    private mutating func close(_ c: UInt8) {
        bytes.append(c)
        needsComma = true
    }

    static func appendDecimal<I: FixedWidthInteger>(_ value: I, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var m = UInt64(value.magnitude)  // the integers written are 64 bits at most
        var room: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 digits, filled from the end
        withUnsafeMutableBytes(of: &room) { buf in
            var i = buf.count
            repeat {
                i -= 1
                buf[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: m % 10)
                m /= 10
            } while m != 0
            out.append(contentsOf: buf[i...])
        }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            // nothing to escape (the usual case): one copy
            guard u.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5c || $0 == 0x7f }) else {
                out.append(contentsOf: u)
                return
            }
            let hex = Array("0123456789abcdef".utf8)
            for b in u {
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), b]
                case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0..<0x20, 0x7f: out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 15)]]
                default: out.append(b)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
