/// Lexical path arithmetic (no file system access).
public enum PathText {
    /// `path` as an absolute, normalised path: repeated "/" collapse, "."
    /// components go, ".." removes the component before it (".." at the root
    /// stays at the root), and no trailing "/" is kept except for "/" itself.
    /// A path not starting with "/" is taken as starting at the root. Symlinks
    /// are not followed, so this is the kernel's answer only where none of the
    /// components crossed by ".." is a symlink.
    public static func normalize(_ path: String) -> String {
        isNormal(path) ? path : rebuilt(path)
    }

    /// The definition: split on "/", drop "." and "", pop for "..", join.
    static func rebuilt(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch c {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(c)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Already normal: starts with "/", no empty, "." or ".." component and
    /// no trailing "/" (most paths the kernel reports; one pass over bytes).
    static func isNormal(_ path: String) -> Bool {
        var it = path.utf8.makeIterator()
        guard it.next() == UInt8(ascii: "/") else { return false }
        var run = 0   // bytes of the current component so far
        var dots = 0  // of which are leading dots
        while let b = it.next() {
            if b == UInt8(ascii: "/") {
                if run == 0 || (run == dots && dots <= 2) { return false }
                run = 0
                dots = 0
            } else {
                if b == UInt8(ascii: ".") && run == dots { dots += 1 }
                run += 1
            }
        }
        return path.utf8.count == 1 || (run > 0 && !(run == dots && dots <= 2))
    }
}

extension JSONWriter {
    /// A path walked in the kernel as `key` (left out when no walk was made),
    /// with `key_truncated`, `key_read_error` and one `key_<flag>` per
    /// `PathFlags` name.
    mutating func walkedPath(_ key: StaticString, _ text: WireText?, _ flags: PathFlags) {
        guard let text else { return }
        field(key, text.known)
        if text.truncated { field(named: "\(key)_truncated", true) }
        if text.fault { field(named: "\(key)_read_error", true) }
        for name in flags.names { field(named: "\(key)_\(name)", true) }
    }
}
