/// `*` globs over a whole string (image and container names).
public struct Glob: Sendable, Equatable {
    let parts: [Substring]
    let anchoredStart: Bool, anchoredEnd: Bool
    public let text: String

    public init(_ text: String) {
        self.text = text
        parts = text.split(separator: "*", omittingEmptySubsequences: true)
        anchoredStart = !text.hasPrefix("*")
        anchoredEnd = !text.hasSuffix("*")
    }

    /// The end of the first occurrence of `part` in `s`.
    static func find(_ part: Substring, in s: Substring) -> Substring.Index? {
        var i = s.startIndex
        while i < s.endIndex {
            if s[i...].hasPrefix(part) { return s.index(i, offsetBy: part.count) }
            i = s.index(after: i)
        }
        return nil
    }

    public func matches(_ s: String) -> Bool {
        if !text.contains("*") { return s == text }
        var rest = Substring(s)
        for (i, part) in parts.enumerated() {
            if i == 0 && anchoredStart {
                guard rest.hasPrefix(part) else { return false }
                rest = rest.dropFirst(part.count)
            } else if i == parts.count - 1 && anchoredEnd {
                return rest.count >= part.count && rest.hasSuffix(part)
            } else {
                guard let end = Self.find(part, in: rest) else { return false }
                rest = rest[end...]
            }
        }
        return true
    }
}

/// An absolute-path pattern: components may hold `*` (never crossing "/");
/// a trailing "/" covers the directory and everything below it.
public struct PathPattern: Sendable, Equatable {
    let components: [Glob]
    let subtree: Bool
    public let text: String

    public init(_ text: String) {
        self.text = text
        subtree = text.hasSuffix("/")
        components = text.split(separator: "/").map { Glob(String($0)) }
    }

    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        guard subtree ? parts.count >= components.count : parts.count == components.count else { return false }
        for (g, p) in zip(components, parts) where !g.matches(String(p)) { return false }
        return true
    }
}
