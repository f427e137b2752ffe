/// Lexical path arithmetic (no file system access).
public enum PathText {
    /// `path` as an absolute, normalised path: repeated "/" collapse, "."
    /// components go, ".." removes the component before it (".." at the root
    /// stays at the root), and no trailing "/" is kept except for "/" itself.
    /// A path not starting with "/" is taken as starting at the root. Symlinks
    /// are not followed, so this is the kernel's answer only where none of the
    /// components crossed by ".." is a symlink.
    public static func normalize(_ path: String) -> String {
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
}

extension JSONWriter {
    /// A path walked in the kernel as `key` (left out when no walk was made),
    /// with `key_truncated`, `key_read_error` and one `key_<flag>` per
    /// `PathFlags` name.
    mutating func walkedPath(_ key: String, _ text: WireText?, _ flags: PathFlags) {
        guard let text else { return }
        field(key, text.known)
        if text.truncated { field(key + "_truncated", true) }
        if text.fault { field(key + "_read_error", true) }
        for name in flags.names { field(key + "_" + name, true) }
    }
}
