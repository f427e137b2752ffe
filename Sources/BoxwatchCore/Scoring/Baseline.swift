/// What each image did while it was learning: the paths it opened and
/// executed and the external addresses it reached. After the learning period
/// a baseline is frozen, so an intruder's activity is never learned as normal.
///
/// Memory is bounded however many paths a container touches: a directory
/// with more than `foldChildren` learned children is folded into one
/// "dir/*" entry covering its whole tree, and a baseline over its entry cap
/// folds its busiest directory; images beyond `maxImages` are forgotten
/// oldest first.
public final class BaselineStore {
    public final class Entry {
        /// Wall-clock time of the image's first event (Unix ns).
        public fileprivate(set) var firstSeen: Int64
        public fileprivate(set) var containers = 0
        public fileprivate(set) var paths = FoldingPathSet()
        /// Programs run: exact paths, never folded (a temp directory full of
        /// files must not make every program in it known).
        public fileprivate(set) var programs: Set<String> = []
        public fileprivate(set) var destinations: Set<String> = []
        /// For eviction: the store's use counter when it was last looked up.
        fileprivate var lastUsed: UInt64 = 0
        /// Past the learning period when it was last saved or checked.
        public fileprivate(set) var frozen = false

        init(firstSeen: Int64) { self.firstSeen = firstSeen }
    }

    public private(set) var entries: [String: Entry] = [:]
    private var uses: UInt64 = 0
    public var maxEntries: Int
    public var maxImages: Int
    /// Whether anything changed since the last `serialize()`.
    public private(set) var dirty = false

    public init(maxEntries: Int = 4096, maxImages: Int = 512) {
        self.maxEntries = maxEntries
        self.maxImages = maxImages
    }

    /// Keys of containers no runtime described: learned for the container's
    /// life only (never saved, forgotten first).
    public static func isEphemeralKey(_ key: String) -> Bool { key.hasPrefix("container:") }

    public func entry(_ key: String, at now: Int64) -> Entry {
        uses += 1
        if let e = entries[key] { e.lastUsed = uses; return e }
        let e = Entry(firstSeen: now)
        e.lastUsed = uses
        entries[key] = e
        dirty = true
        if entries.count > maxImages { evict(keeping: key) }
        return e
    }

    /// Forgets the least recently used baseline, per-container ones first.
    private func evict(keeping key: String) {
        let candidates = entries.filter { $0.key != key }
        let pool = candidates.filter { Self.isEphemeralKey($0.key) }
        if let old = (pool.isEmpty ? candidates : pool).min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            entries[old] = nil
        }
    }

    public func isLearning(_ e: Entry, at now: Int64, config: ScoringConfig) -> Bool {
        if e.frozen { return false }
        let learning = Double(now &- e.firstSeen) / 1e9 < config.learningSeconds || e.containers < config.learningMinContainers
        if !learning { e.frozen = true; dirty = true }
        return learning
    }

    public func countContainer(_ e: Entry) {
        e.containers += 1
        dirty = true
    }

    /// Learns a path; returns whether it was new.
    @discardableResult
    public func learn(path: String, in e: Entry) -> Bool {
        let added = e.paths.insert(path, cap: maxEntries)
        if added { dirty = true }
        return added
    }

    public func learn(program: String, in e: Entry) {
        guard e.programs.count < maxEntries else { return }
        if e.programs.insert(program).inserted { dirty = true }
    }

    public func learn(destination: String, in e: Entry) {
        guard e.destinations.count < maxEntries else { return }
        if e.destinations.insert(destination).inserted { dirty = true }
    }

    // MARK: persistence (text, one line per fact; the host writes it atomically)

    static let magic = "boxwatch-baselines 1"

    /// The store's content at one moment (sets are copied on write, so this
    /// is cheap): serialized off the event loop while the store goes on.
    public struct Snapshot: Sendable {
        struct Image: Sendable {
            var key: String, firstSeen: Int64, containers: Int, frozen: Bool
            var exact: Set<String>, folded: Set<String>, programs: Set<String>, destinations: Set<String>
        }
        var images: [Image]

        /// The text: `image <first-ns> <containers> <frozen> <key>` then its
        /// `path <p>`, `dir <d>` (folded), `prog <p>` and `dest <ip>` lines;
        /// most recently used first (so a smaller cap keeps those).
        public func text() -> String {
            var s = BaselineStore.magic + "\n"
            for i in images {
                s += "image \(i.firstSeen) \(i.containers) \(i.frozen ? 1 : 0) \(BaselineStore.escape(i.key))\n"
                for p in i.folded.sorted() { s += "dir \(BaselineStore.escape(p))\n" }
                for p in i.exact.sorted() { s += "path \(BaselineStore.escape(p))\n" }
                for p in i.programs.sorted() { s += "prog \(BaselineStore.escape(p))\n" }
                for d in i.destinations.sorted() { s += "dest \(BaselineStore.escape(d))\n" }
            }
            return s
        }
    }

    /// What a save writes (per-container baselines are not kept); a save
    /// clears `dirty`, a copy for a dump does not.
    public func snapshot(forSave: Bool = true) -> Snapshot {
        if forSave { dirty = false }
        return Snapshot(images: entries.sorted { ($0.value.lastUsed, $0.key) > ($1.value.lastUsed, $1.key) }
            .filter { !Self.isEphemeralKey($0.key) }
            .map { key, e in
                Snapshot.Image(key: key, firstSeen: e.firstSeen, containers: e.containers, frozen: e.frozen,
                               exact: e.paths.exact, folded: e.paths.folded, programs: e.programs, destinations: e.destinations)
            })
    }

    public func serialize() -> String { snapshot().text() }

    /// Reads what `serialize` wrote; a damaged file is an error with its line.
    public static func parse(_ text: String, file: String, maxEntries: Int = 4096, maxImages: Int = 512) throws(ConfigError) -> BaselineStore {
        let store = BaselineStore(maxEntries: maxEntries, maxImages: maxImages)
        var current: Entry?
        var loaded: [String] = []
        var lineNo = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            if lineNo == 1 {
                guard line == magic else { throw ConfigError(file: file, line: 1, column: 1, "not a boxwatch baseline file (expected \"\(magic)\")") }
                continue
            }
            if line.isEmpty { continue }
            let fields = line.split(separator: " ", maxSplits: 1)
            let rest = fields.count > 1 ? String(fields[1]) : ""
            func bad(_ why: String) -> ConfigError { ConfigError(file: file, line: lineNo, column: 1, why) }
            switch fields[0] {
            case "image":
                let parts = rest.split(separator: " ", maxSplits: 3)
                guard parts.count == 4, let first = Int64(parts[0]), let n = Int(parts[1]), n >= 0,
                      parts[2] == "0" || parts[2] == "1", let key = unescape(parts[3]) else {
                    throw bad("malformed image line")
                }
                let e = store.entry(key, at: first)
                loaded.append(key)
                e.containers = n
                e.frozen = parts[2] == "1"
                current = e
            case "path", "dir", "prog", "dest":
                guard let e = current else { throw bad("\(fields[0]) line before any image line") }
                guard let value = unescape(Substring(rest)), !value.isEmpty else { throw bad("malformed \(fields[0]) value") }
                switch fields[0] {
                case "path": e.paths.insert(value, cap: maxEntries)
                case "dir": e.paths.fold(value)
                case "prog": if e.programs.count < maxEntries { e.programs.insert(value) }
                default: e.destinations.insert(value)
                }
            default:
                throw bad("unknown line type \"\(fields[0].prefix(20))\"")
            }
        }
        // the file lists the most recently used first
        for (i, key) in loaded.enumerated() { store.entries[key]?.lastUsed = UInt64(loaded.count - i) }
        store.uses = UInt64(loaded.count)
        store.dirty = false
        return store
    }

    /// Keeps each value on one line: backslash, newline and space-free form.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func unescape(_ s: Substring) -> String? {
        var out = ""
        var it = s.unicodeScalars.makeIterator()
        while let u = it.next() {
            guard u == "\\" else { out.unicodeScalars.append(u); continue }
            switch it.next() {
            case "\\": out += "\\"
            case "n": out += "\n"
            case "r": out += "\r"
            default: return nil
            }
        }
        return out
    }
}

/// A set of absolute paths that folds busy directories: once a directory
/// has more than `foldChildren` learned children it becomes one entry that
/// covers its whole tree. Lookups walk the path's ancestors: O(depth).
public struct FoldingPathSet {
    public private(set) var exact: Set<String> = []
    public private(set) var folded: Set<String> = []
    private var children: [String: Int] = [:]
    public static let foldChildren = 64

    public var count: Int { exact.count + folded.count }

    public func contains(_ path: String) -> Bool {
        if exact.contains(path) || folded.contains(path) { return true }
        return !folded.isEmpty && Self.hasFoldedAncestor(path, in: folded)
    }

    /// Adds `path`; folds its parent when it gets too many children and the
    /// busiest directory when the set passes `cap`. Returns whether it was new.
    @discardableResult
    public mutating func insert(_ path: String, cap: Int) -> Bool {
        guard !contains(path) else { return false }
        exact.insert(path)
        let parent = Self.parent(of: path)
        let n = children[parent, default: 0] + 1
        children[parent] = n
        if n > Self.foldChildren { fold(parent) }
        if count > cap { compact(cap: cap) }
        return true
    }

    /// Brings the set down to half the cap in whole passes (so the cost is
    /// spread over the next cap/2 inserts): each pass replaces entries that
    /// share a directory with that directory; a pass that gains nothing
    /// moves every entry one level up, so it always ends (at "/" at worst).
    mutating func compact(cap: Int) {
        var force = false
        while count > max(cap / 2, 1) {
            var perDir: [String: Int] = [:]
            for p in exact { perDir[Self.parent(of: p), default: 0] += 1 }
            for f in folded where f != "/" { perDir[Self.parent(of: f), default: 0] += 1 }
            var nextExact: Set<String> = [], nextFolded: Set<String> = []
            for p in exact {
                let d = Self.parent(of: p)
                if force || perDir[d, default: 0] >= 2 { nextFolded.insert(d) } else { nextExact.insert(p) }
            }
            for f in folded {
                let d = f == "/" ? "/" : Self.parent(of: f)
                nextFolded.insert(force || perDir[d, default: 0] >= 2 ? d : f)
            }
            let before = count
            folded = nextFolded.filter { !Self.hasFoldedAncestor($0, in: nextFolded) }
            exact = nextExact.filter { !Self.hasFoldedAncestor($0, in: folded) }
            force = count >= before
        }
        children = [:]
        for p in exact { children[Self.parent(of: p), default: 0] += 1 }
        for f in folded where f != "/" { children[Self.parent(of: f), default: 0] += 1 }
    }

    static func hasFoldedAncestor(_ path: String, in folded: Set<String>) -> Bool {
        guard path != "/" else { return false }
        var p = Substring(path)
        while let slash = p.lastIndex(of: "/") {
            p = p[..<slash]
            if folded.contains(p.isEmpty ? "/" : String(p)) { return true }
        }
        return false
    }

    /// Makes `dir` one entry for its whole tree.
    public mutating func fold(_ dir: String) {
        let prefix = dir == "/" ? "/" : dir + "/"
        exact = exact.filter { !$0.hasPrefix(prefix) }
        folded = folded.filter { !$0.hasPrefix(prefix) }
        children = children.filter { $0.key != dir && !$0.key.hasPrefix(prefix) }
        folded.insert(dir)
        if dir != "/" { children[Self.parent(of: dir), default: 0] += 1 }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
