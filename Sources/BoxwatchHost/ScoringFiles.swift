import BoxwatchCore
import Glibc

/// The scoring engine's files: the YAML config, IOC lists and the baseline
/// state. Reading names the file in every error; saving is atomic.
public enum ScoringFiles {
    /// Text files larger than this are refused (a config or IOC list, not a dump).
    static let maxTextBytes = 64 << 20

    public static func readText(_ path: String) throws(ConfigError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConfigError(file: path, line: 0, column: 0, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            throw ConfigError(file: path, line: 0, column: 0, "is a directory, not a file")
        }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ConfigError(file: path, line: 0, column: 0, "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk.prefix(n))
            if bytes.count > maxTextBytes { throw ConfigError(file: path, line: 0, column: 0, "larger than \(maxTextBytes >> 20) MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            var line = 1, col = 1
            // find the first bad byte for the position
            var i = 0
            while i < bytes.count {
                let len = bytes[i] < 0x80 ? 1 : bytes[i] >> 5 == 0b110 ? 2 : bytes[i] >> 4 == 0b1110 ? 3 : bytes[i] >> 3 == 0b11110 ? 4 : 0
                if len == 0 || i + len > bytes.count || String(validating: bytes[i..<i + len], as: UTF8.self) == nil { break }
                if bytes[i] == 0x0a { line += 1; col = 1 } else { col += 1 }
                i += len
            }
            throw ConfigError(file: path, line: line, column: col, "not UTF-8 text (byte 0x\(String(bytes[min(i, bytes.count - 1)], radix: 16)))")
        }
        return text
    }

    /// The config file (or the built-in default), its IOC files (relative to
    /// its directory) and the `--ioc` files, all checked before anything runs.
    /// Also returns the texts read, for a dump to carry.
    public static func load(config path: String?, iocFiles: [String]) throws(ConfigError) -> (ScoringConfig, NetworkSet, ScoringSources) {
        var sources = ScoringSources()
        var files: [String] = []
        if let path {
            let text = try readText(path)
            let config = try ConfigFile.parse(text, file: path)
            sources.config = NamedText(name: path, text: text)
            let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
            files = config.iocFiles.map { $0.hasPrefix("/") ? $0 : dir + "/" + $0 }
        }
        for f in files + iocFiles { sources.iocs.append(NamedText(name: f, text: try readText(f))) }
        let (config, iocs, _) = try sources.build()
        return (config, iocs, sources)
    }
}

/// Baselines in `<state dir>/baselines`: written to a temporary file,
/// fsynced, renamed over the old one and the directory fsynced, so a crash
/// or kill -9 at any moment leaves either the old file or the new one.
public enum BaselineFile {
    public static func path(in dir: String) -> String { dir + "/baselines" }

    /// The saved baselines, or an empty store when there is no file yet.
    /// A writer (`owner`) also clears temporaries of saves cut short.
    public static func load(dir: String, config: ScoringConfig, owner: Bool) throws(ConfigError) -> BaselineStore {
        let p = path(in: dir)
        if owner { removeStaleTemporaries(dir) }
        if access(p, F_OK) != 0 { return BaselineStore(maxEntries: config.baselineMaxEntries, maxImages: config.baselineMaxImages) }
        return try BaselineStore.parse(try ScoringFiles.readText(p), file: p,
                                       maxEntries: config.baselineMaxEntries, maxImages: config.baselineMaxImages)
    }

    /// A save cut short by kill -9 leaves its temporary file (the real one is
    /// intact); removed once its writer is gone.
    static func removeStaleTemporaries(_ dir: String) {
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("baselines.tmp."), let pid = Int32(name.dropFirst("baselines.tmp.".count)) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { unlink(dir + "/" + name) }
        }
    }

    /// One writer per state directory: an exclusive lock held for the
    /// process's life (a second agent or tail on the same directory is refused).
    public static func lock(dir: String) throws(ConfigError) {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw ConfigError(file: dir, line: 0, column: 0, "cannot create the state directory: \(String(cString: strerror(errno)))")
        }
        let fd = open(dir + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError(file: dir + "/lock", line: 0, column: 0, "cannot open: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            close(fd)
            throw ConfigError(file: dir, line: 0, column: 0, e == EWOULDBLOCK
                ? "another boxwatch (run or tail) keeps its baselines here; give this one its own --state-dir"
                : "cannot lock: \(String(cString: strerror(e)))")
        }
        // the fd stays open: the lock lasts until the process ends
    }

    public static func save(_ store: BaselineStore, dir: String) throws(ConfigError) {
        try save(store.snapshot(), dir: dir)
    }

    public static func save(_ snapshot: BaselineStore.Snapshot, dir: String) throws(ConfigError) {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw ConfigError(file: dir, line: 0, column: 0, "cannot create the state directory: \(String(cString: strerror(errno)))")
        }
        let final = path(in: dir)
        let tmp = final + ".tmp.\(getpid())"
        let text = snapshot.text()
        func fail(_ what: String) -> ConfigError {
            ConfigError(file: tmp, line: 0, column: 0, "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot create") }
        var ok = true
        var utf8 = Array(text.utf8)
        var off = 0
        while off < utf8.count {
            let n = utf8.withUnsafeMutableBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 { if errno == EINTR { continue }; ok = false; break }
            off += n
        }
        utf8 = []
        if ok && fsync(fd) != 0 { ok = false }
        let err = fail("write failed")
        close(fd)
        guard ok else { unlink(tmp); throw err }
        guard rename(tmp, final) == 0 else { let e = fail("rename failed"); unlink(tmp); throw e }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
