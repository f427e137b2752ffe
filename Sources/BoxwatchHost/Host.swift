import BoxwatchCore
import CLibBPF
import Glibc

/// What must be true before the sensor can load, each with how to fix it.
public struct PreflightProblem: Error, CustomStringConvertible {
    public var what: String
    public var fix: String
    public var description: String { "\(what)\n  fix: \(fix)" }
}

public enum Preflight {
    public static let tracefsCandidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// Runs every check; returns the first problem found.
    public static func check(objectPath: String?) -> PreflightProblem? {
        if geteuid() != 0 {
            return PreflightProblem(what: "must run as root to load BPF programs (euid is \(geteuid()))",
                                    fix: "run it with sudo, or as root")
        }
        if access("/sys/kernel/btf/vmlinux", R_OK) != 0 {
            return PreflightProblem(
                what: "the kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing); CO-RE programs cannot be relocated",
                fix: "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.4)")
        }
        if tracefsRoot() == nil {
            return PreflightProblem(
                what: "tracefs is not mounted (no \(tracefsCandidates[0])/events/syscalls); tracepoints cannot be attached",
                fix: "mount -t tracefs tracefs /sys/kernel/tracing")
        }
        if objectPath == nil {
            return PreflightProblem(
                what: "the BPF object boxwatch.bpf.o was not found (searched: \(BPFObjectLocator.searched().joined(separator: ", ")))",
                fix: "run scripts/setup.sh, or pass --bpf-object PATH, or set BOXWATCH_BPF_OBJECT")
        }
        return nil
    }

    public static func tracefsRoot() -> String? {
        tracefsCandidates.first { access($0 + "/events/syscalls/sys_enter_openat", F_OK) == 0 }
    }
}

/// Finds the compiled BPF object: an explicit path, $BOXWATCH_BPF_OBJECT,
/// next to the executable, or build/bpf/ in a checkout above it.
public enum BPFObjectLocator {
    public static let fileName = "boxwatch.bpf.o"

    public static func searched() -> [String] {
        var list: [String] = []
        if let env = getenv("BOXWATCH_BPF_OBJECT") { list.append(String(cString: env)) }
        guard let exe = executablePath() else { return list }
        var dir = parent(exe)
        list.append(dir + "/" + fileName)
        for _ in 0..<6 {
            list.append(dir + "/build/bpf/" + fileName)
            let up = parent(dir)
            if up == dir { break }
            dir = up
        }
        return list
    }

    public static func find(explicit: String?) -> String? {
        if let explicit { return access(explicit, R_OK) == 0 ? explicit : nil }
        return searched().first { access($0, R_OK) == 0 }
    }

    static func executablePath() -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBufferPointer {
            readlink("/proc/self/exe", UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 4095)
        }
        return n > 0 ? String(decoding: buf.prefix(n), as: UTF8.self) : nil
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// The host's clocks.
public enum HostClock {
    static func nanos(_ id: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// realtime - boottime, sampled between two boot-time reads and rounded
    /// to the millisecond, so two processes (a tail and a recorder) sampling
    /// the same clocks agree, and a replay prints the live run's timestamps.
    public static func sample() -> WallClock {
        let b1 = nanos(CLOCK_BOOTTIME)
        let r = nanos(CLOCK_REALTIME)
        let b2 = nanos(CLOCK_BOOTTIME)
        let offset = r - (b1 + (b2 - b1) / 2)
        return WallClock(offsetNanos: (offset + 500_000) / 1_000_000 * 1_000_000)
    }

    public static func unixNanos() -> Int64 { nanos(CLOCK_REALTIME) }

    public static func monotonicSeconds() -> Double {
        Double(nanos(CLOCK_MONOTONIC)) / 1e9
    }
}

/// Reads the cgroup2 hierarchy: where it is mounted, and every cgroup's id
/// (its directory's inode number) and path.
public enum CgroupScanner {
    /// Where cgroup2 is mounted, and which cgroup the mount shows as its
    /// root (not "/" inside a private cgroup namespace or a bind mount).
    public struct Mount {
        public var point: String
        public var root: String
    }

    /// The cgroup2 mount from /proc/self/mountinfo.
    public static func unifiedMount() -> Mount? {
        guard let text = readFile("/proc/self/mountinfo") else { return nil }
        for line in text.split(separator: "\n") {
            // id parent major:minor root mountpoint options... - fstype source superopts
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count >= 5 { return Mount(point: String(fields[4]), root: String(fields[3])) }
        }
        return nil
    }

    /// Calls `visit(id, path)` for every cgroup below the mount, with paths
    /// from the hierarchy's root as the kernel's cgroup records give them.
    public static func scan(_ mount: Mount, visit: (CgroupID, String) -> Void) {
        let base = mount.root == "/" ? "" : mount.root
        var stack = [""]
        while let rel = stack.popLast() {
            let dirPath = mount.point + rel
            var st = stat()
            guard stat(dirPath, &st) == 0 else { continue }
            let path = base + rel
            visit(CgroupID(UInt64(st.st_ino)), path.isEmpty ? "/" : path)
            guard let dir = opendir(dirPath) else { continue }
            while let ent = readdir(dir) {
                guard ent.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafeBytes(of: ent.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                stack.append(rel + "/" + name)
            }
            closedir(dir)
        }
    }
}

func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var data = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        data.append(contentsOf: buf.prefix(n))
    }
    return String(decoding: data, as: UTF8.self)
}

/// SIGINT and SIGTERM delivered through a signalfd, so the event loop sees
/// them as a readable fd instead of running code in a signal handler.
public final class StopSignals {
    public let fd: Int32

    public init() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)  // a reload for the agent; a stop elsewhere
        sigprocmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
        fd = signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        if fd < 0 {  // without it Ctrl-C could not be seen: fall back to the default action
            sigprocmask(SIG_UNBLOCK, &set, nil)
        }
    }

    /// The signal number waiting, if any.
    public func take() -> Int32? {
        var info = signalfd_siginfo()
        let n = read(fd, &info, MemoryLayout<signalfd_siginfo>.size)
        return n == MemoryLayout<signalfd_siginfo>.size ? Int32(info.ssi_signo) : nil
    }
}

/// Writes to a file descriptor without ever blocking past a stop signal:
/// a stalled reader (a paused pager) cannot keep Ctrl-C from working.
public struct FDWriter: Sendable {
    public let fd: Int32
    /// A regular file or /dev/null: a write never waits for a reader, so it
    /// goes out in large pieces without a poll before each (a stop signal
    /// does not cut short a write to a stalled network filesystem).
    private let neverBlocks: Bool

    public init(fd: Int32) {
        self.fd = fd
        var st = stat()
        let isNull = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0x103  /* makedev(1, 3) */
        neverBlocks = isNull || (st.st_mode & S_IFMT) == S_IFREG
    }

    public enum Outcome: Equatable {
        case written
        /// The reader went away (EPIPE, or the pipe reported an error).
        case closed
        /// The reader stalled and `stopFD` became readable (a signal is waiting).
        case interrupted
        case failed(errno: Int32)
    }

    /// Writes all of `text`, waiting for room with poll() alongside `stopFD`.
    /// Chunks of at most a pipe buffer page never block once poll says writable.
    @discardableResult
    public func write(_ text: String, stopFD: Int32 = -1) -> Outcome {
        var text = text
        return text.withUTF8 { buf in
            var off = 0
            while neverBlocks && off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failed(errno: errno)
                }
                off += n
            }
            while off < buf.count {
                var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0),
                           pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
                if poll(&fds, stopFD >= 0 ? 2 : 1, -1) < 0 {
                    if errno == EINTR { continue }
                    return .failed(errno: errno)
                }
                let writable = fds[0].revents & Int16(POLLOUT) != 0
                if !writable {
                    if fds[0].revents & Int16(POLLERR | POLLHUP) != 0 { return .closed }
                    // only a stalled reader lets a stop signal cut the output short
                    if stopFD >= 0 && fds[1].revents & Int16(POLLIN) != 0 { return .interrupted }
                    continue
                }
                let n = Glibc.write(fd, buf.baseAddress! + off, min(4096, buf.count - off))
                if n < 0 {
                    switch errno {
                    case EINTR, EAGAIN: continue
                    case EPIPE: return .closed
                    default: return .failed(errno: errno)
                    }
                }
                off += n
            }
            return .written
        }
    }

    /// Whether the reader of this pipe has gone (poll reports POLLERR).
    public var readerGone: Bool {
        var p = pollfd(fd: fd, events: 0, revents: 0)
        return poll(&p, 1, 0) == 1 && p.revents & Int16(POLLERR) != 0
    }
}
