import BoxwatchCore
import CLibBPF
import Glibc

/// Appends dump blocks to a file. Each batch is one write of whole blocks, so
/// a crash or kill -9 leaves a file that reads up to its last whole block.
public final class DumpWriter {
    public let path: String
    private let fd: Int32
    public private(set) var bytesWritten = 0
    private var batch: [UInt8] = []

    public init(path: String) throws(SensorError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw .call("open", errno: errno, context: path) }
        append(DumpEncoder.preamble())
    }

    deinit { close(fd) }

    public func append(_ block: [UInt8]) { batch.append(contentsOf: block) }

    public func appendRecord(arrivalUnixNanos: Int64, _ raw: UnsafeRawBufferPointer) {
        batch.append(contentsOf: DumpEncoder.record(arrivalUnixNanos: arrivalUnixNanos, raw))
    }

    /// Writes what has been appended since the last flush. On failure the
    /// file is cut back to its last whole block and the batch is dropped, so
    /// a torn block never sits in the middle of the file.
    public func flush() throws(SensorError) {
        var off = 0
        defer { batch.removeAll(keepingCapacity: true) }
        while off < batch.count {
            let n = batch.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                _ = ftruncate(fd, off_t(bytesWritten))
                _ = lseek(fd, off_t(bytesWritten), SEEK_SET)
                throw .call("write", errno: e, context: path)
            }
            off += n
        }
        bytesWritten += batch.count
    }

    public func sync() { fsync(fd) }
}

/// What a dump header records about this host and sensor.
public enum HostFacts {
    public static func header(objectPath: String, ringSize: Int, clock: WallClock, version: String) -> DumpHeader {
        var h = DumpHeader()
        var u = utsname()
        uname(&u)
        h.kernelRelease = cString(u.release)
        h.architecture = cString(u.machine)
        (h.btfHash, h.btfSize) = hashFile("/sys/kernel/btf/vmlinux")
        h.objectHash = hashFile(objectPath).hash
        h.clockOffsetNanos = clock.offsetNanos
        h.cpuCount = UInt32(max(0, libbpf_num_possible_cpus()))
        h.ringSize = UInt32(ringSize)
        h.cgroupMode = cgroupMode()
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        h.hostname = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        h.captureStartUnixNanos = HostClock.unixNanos()
        h.boxwatchVersion = version
        return h
    }

    /// "v2" (cgroup2 at /sys/fs/cgroup), "hybrid" (v1 controllers plus a
    /// cgroup2 mount elsewhere) or "v1".
    public static func cgroupMode() -> String {
        guard let m = CgroupScanner.unifiedMount() else { return "v1" }
        return m.point == "/sys/fs/cgroup" ? "v2" : "hybrid"
    }

    static func hashFile(_ path: String) -> (hash: UInt64, size: UInt64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (0, 0) }
        defer { close(fd) }
        var h = FNV1a64()
        var size: UInt64 = 0
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            h.update(buf.prefix(n))
            size += UInt64(n)
        }
        return (h.value, size)
    }

    /// Running processes from /proc: pid, ppid, comm, exe, cgroup2 id.
    public static func processes(cgroupIDs: [String: CgroupID]) -> [ProcessSnapshot] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [ProcessSnapshot] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), let stat = readFile("/proc/\(pid)/stat") else { continue }
            // pid (comm) state ppid ...: comm may hold spaces and parentheses
            guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            let comm = String(stat[stat.index(after: open)..<close])
            let rest = stat[stat.index(after: close)...].split(separator: " ")
            let ppid = rest.count > 1 ? Int32(rest[1]) ?? 0 : 0
            let exe = readLink("/proc/\(pid)/exe") ?? ""
            var cgroup = CgroupID(0)
            if let text = readFile("/proc/\(pid)/cgroup"),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) {
                cgroup = cgroupIDs[String(line.dropFirst(3))] ?? CgroupID(0)
            }
            out.append(ProcessSnapshot(pid: pid, ppid: ppid, cgroup: cgroup, comm: comm, executable: exe))
        }
        return out.sorted { $0.pid < $1.pid }
    }

    static func readLink(_ path: String) -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBufferPointer {
            readlink(path, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 4095)
        }
        return n > 0 ? String(decoding: buf.prefix(n), as: UTF8.self) : nil
    }

    static func cString<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// Reads a dump file in chunks through the pure parser.
public struct DumpFileReader {
    public let path: String
    private let fd: Int32
    public private(set) var bytesRead = 0
    private var parser = DumpParser()
    private var eof = false

    public init(path: String) throws(SensorError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .call("open", errno: errno, context: path) }
    }

    public func close() { Glibc.close(fd) }

    /// The next block; nil at a clean end of file. Errors name the offset.
    public mutating func next() throws(DumpError) -> DumpBlock? {
        while true {
            if let block = try parser.next() { return block }
            if eof {
                try parser.finish()
                return nil
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .readFailed(offset: bytesRead, errno: errno)
            }
            if n == 0 { eof = true; continue }
            bytesRead += n
            parser.feed(chunk.prefix(n))
        }
    }
}
