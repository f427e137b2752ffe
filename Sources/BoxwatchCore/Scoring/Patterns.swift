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

/// Many path patterns, matched in about one hash probe per path component:
/// plain paths and trees go in tables; only patterns with `*` are tried one
/// by one, and only on paths that start with their literal prefix.
public struct PathMatcher: Sendable {
    private var exact: [String: String] = [:]
    private var trees: [String: String] = [:]
    private var globs: [(prefix: String, pattern: PathPattern)] = []

    public init(_ patterns: [String]) {
        for text in patterns {
            if text.contains("*") {
                let literal = text.prefix { $0 != "*" }
                let prefix = literal.lastIndex(of: "/").map { String(literal[...$0]) } ?? "/"
                globs.append((prefix, PathPattern(text)))
            } else if text.hasSuffix("/") {
                let dir = String(text.dropLast())
                if trees[dir.isEmpty ? "/" : dir] == nil { trees[dir.isEmpty ? "/" : dir] = text }
            } else if exact[text] == nil {
                exact[text] = text
            }
        }
    }

    /// The first pattern (as written) that matches `path`, if any.
    public func match(_ path: String) -> String? {
        if let p = exact[path] { return p }
        if !trees.isEmpty {
            if let p = trees[path] { return p }
            let u = path.utf8
            var i = u.endIndex
            while i > u.startIndex {
                i = u.index(before: i)
                if u[i] == UInt8(ascii: "/") {
                    let dir = i == u.startIndex ? "/" : String(path[..<i])
                    if let p = trees[dir] { return p }
                }
            }
        }
        for g in globs where path.hasPrefix(g.prefix) && g.pattern.matches(path) { return g.pattern.text }
        return nil
    }
}
