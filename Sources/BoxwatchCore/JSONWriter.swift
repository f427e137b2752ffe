/// A small JSON writer: keys in the order written, no intermediate tree.
public struct JSONWriter {
    public private(set) var text: String = ""
    private var needsComma = false

    public init() { text.reserveCapacity(1024) }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        open("{"); body(&self); close("}")
    }

    public mutating func object(_ key: String, _ body: (inout JSONWriter) -> Void) {
        self.key(key); open("{"); body(&self); close("}")
    }

    /// An array whose elements `body` writes (e.g. with `object { }`).
    public mutating func array(_ key: String, _ body: (inout JSONWriter) -> Void) {
        self.key(key); open("["); body(&self); close("]")
    }

    public mutating func field(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key); Self.appendString(value, to: &text); needsComma = true
    }

    public mutating func field<I: BinaryInteger>(_ key: String, _ value: I?) {
        guard let value else { return }
        self.key(key); text += String(value); needsComma = true
    }

    public mutating func field(_ key: String, _ value: Bool?) {
        guard let value else { return }
        self.key(key); text += value ? "true" : "false"; needsComma = true
    }

    public mutating func field(_ key: String, _ values: [String]?) {
        guard let values else { return }
        self.key(key)
        text += "["
        for (i, v) in values.enumerated() {
            if i > 0 { text += "," }
            Self.appendString(v, to: &text)
        }
        text += "]"
        needsComma = true
    }

    /// Keys are escaped too: some (container labels) come from outside.
    private mutating func key(_ k: String) {
        if needsComma { text += "," }
        Self.appendString(k, to: &text)
        text += ":"
        needsComma = false
    }

    private mutating func open(_ c: String) {
        if needsComma { text += "," }
        text += c
        needsComma = false
    }

    private mutating func close(_ c: String) {
        text += c
        needsComma = true
    }

    static func appendString(_ s: String, to out: inout String) {
        // fast path: nothing to escape (the usual case), one append
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5c || $0 == 0x7f }) {
            out += "\""
            out += s
            out += "\""
            return
        }
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
