import BoxwatchCore
import CBoxwatchABI
import CLibBPF
import Glibc

public struct SensorOptions: Sendable {
    public var objectPath: String
    /// Ring buffer bytes: a power of two, at least a page.
    public var ringBytes: Int = 16 << 20
    /// The sensor's own process is ignored in the kernel (nil = see it too).
    public var ignorePid: Int32? = getpid()
    /// Wake the reader only when this much is pending (0 = every record);
    /// the poll timeout bounds latency for a trickle.
    public var wakeupBytes: UInt32 = 256 << 10
    /// Name tasks in the cgroup2 root by their v1 pids cgroup (hybrid hosts).
    public var v1Fallback = HostFacts.cgroupMode() == "hybrid"
    /// Task names (comm) whose events are left out in the kernel.
    public var ignoreComms: [String] = []
    /// Absolute open-path prefixes left out in the kernel (opens only).
    public var ignorePathPrefixes: [String] = []
    /// Turns on the kernel's cgroup ignore map (filled with `ignoreCgroup`).
    public var cgroupFilter = false

    public init(objectPath: String) { self.objectPath = objectPath }
}

extension SensorOptions {
    /// The kernel's limits on the ignore lists (the command line checks them
    /// too, to name the option): why it cannot take this entry, or nil.
    public static func problem(ignoreComm c: String) -> String? {
        c.isEmpty || c.utf8.count >= Int(BW_COMM_LEN) ? "'\(c)' is not a task name of 1 to \(BW_COMM_LEN - 1) bytes" : nil
    }

    public static func problem(ignorePath p: String) -> String? {
        p.hasPrefix("/") && !p.contains("/.") && p.utf8.count <= Int(BW_IGNORE_PATH_ROOM) ? nil
            : "'\(p)' is not an absolute path prefix of at most \(BW_IGNORE_PATH_ROOM) bytes without a '/.'"
    }

    public static let maxIgnorePaths = Int(BW_IGNORE_PATHS)
}

/// The loaded and attached BPF programs and their ring buffer.
public final class Sensor {
    private let bpf: BPFObject
    private var ring: OpaquePointer?
    private let statsFD: Int32
    private let seqsFD: Int32
    private var ignoreCgroupsFD: Int32 = -1
    private var scratch: [UInt64]
    private let sink: RingSink
    public let programCount: Int
    public let options: SensorOptions

    public init(options: SensorOptions) throws(SensorError) {
        let n = options.ringBytes
        guard n >= 4096, n & (n - 1) == 0, n <= 1 << 30 else { throw .invalidRingSize(n) }
        self.options = options
        bpf = try BPFObject(path: options.objectPath)
        try bpf.setMaxEntries("events", UInt32(n))
        // the wake-up mark must sit well inside the ring, or a small ring
        // would fill before the reader is ever woken
        // each CPU wakes the reader once per its share of the mark
        let cpus = UInt32(max(1, libbpf_num_possible_cpus()))
        var filters: UInt32 = 0
        if options.cgroupFilter { filters |= UInt32(BW_FILTER_CGROUP) }
        if !options.ignoreComms.isEmpty { filters |= UInt32(BW_FILTER_COMM) }
        if !options.ignorePathPrefixes.isEmpty { filters |= UInt32(BW_FILTER_PATH) }
        guard options.ignorePathPrefixes.count <= SensorOptions.maxIgnorePaths else {
            throw .invalidFilter("at most \(SensorOptions.maxIgnorePaths) ignored path prefixes")
        }
        let config = bw_config(self_tgid: UInt32(bitPattern: options.ignorePid ?? 0),
                               wakeup_bytes: max(1, min(options.wakeupBytes, UInt32(n / 4)) / cpus),
                               v1_fallback: options.v1Fallback ? 1 : 0, filters: filters,
                               path_prefixes: UInt32(options.ignorePathPrefixes.count), _pad: (0, 0, 0))
        try bpf.setReadOnly("bw_cfg", config)
        try bpf.load()
        ignoreCgroupsFD = try bpf.mapFD("ignore_cgroups")
        let commsFD = try bpf.mapFD("ignore_comms"), pathsFD = try bpf.mapFD("ignore_paths")
        for comm in options.ignoreComms {
            var key = [UInt8](repeating: 0, count: Int(BW_COMM_LEN))
            if let problem = SensorOptions.problem(ignoreComm: comm) { throw .invalidFilter(problem) }
            let bytes = Array(comm.utf8)
            key.replaceSubrange(0..<bytes.count, with: bytes)
            try Self.update(commsFD, key: key, value: [1], what: "ignore_comms")
        }
        for (i, prefix) in options.ignorePathPrefixes.enumerated() {
            if let problem = SensorOptions.problem(ignorePath: prefix) { throw .invalidFilter(problem) }
            let bytes = Array(prefix.utf8)
            guard let dev = Self.filesystem(of: prefix) else { throw .invalidFilter("path prefix '\(prefix)': no directory of it exists") }
            var entry = [UInt8](repeating: 0, count: MemoryLayout<bw_path_prefix>.size)
            withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { entry.replaceSubrange(0..<4, with: $0) }
            withUnsafeBytes(of: dev.littleEndian) { entry.replaceSubrange(4..<8, with: $0) }
            entry.replaceSubrange(8..<(8 + bytes.count), with: bytes)
            try Self.update(pathsFD, key: withUnsafeBytes(of: UInt32(i)) { Array($0) }, value: entry, what: "ignore_paths")
        }
        statsFD = try bpf.mapFD("stats")
        seqsFD = try bpf.mapFD("seqs")
        scratch = [UInt64](repeating: 0, count: max(1, Int(libbpf_num_possible_cpus())))
        sink = RingSink()
        let ringFD = try bpf.mapFD("events")
        let ctx = Unmanaged.passUnretained(sink).toOpaque()
        errno = 0
        guard let rb = ring_buffer__new(ringFD, { ctx, data, size in
            let sink = Unmanaged<RingSink>.fromOpaque(ctx!).takeUnretainedValue()
            sink.handler?(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }, ctx, nil) else {
            throw .call("ring_buffer__new", errno: errno == 0 ? EINVAL : errno, context: "map events")
        }
        // attach last: nothing fires before the reader exists
        do {
            programCount = try bpf.attachAll()
        } catch {
            ring_buffer__free(rb)
            throw error
        }
        ring = rb
    }

    deinit { close() }

    /// The filesystem a path prefix names, as the kernel spells a dev_t
    /// (major << 20 | minor): of the prefix itself, else of the nearest
    /// directory above it that exists ("/usr/lib/libfoo" -> "/usr/lib").
    static func filesystem(of prefix: String) -> UInt32? {
        var path = prefix
        while true {
            var st = stat()
            if stat(path, &st) == 0 {
                let d = UInt64(st.st_dev)  // glibc's encoding: major in bits 8-19 and 32-43, minor in 0-7 and 20-31
                let major = (d >> 8) & 0xfff | (d >> 32) & ~0xfff
                let minor = d & 0xff | (d >> 12) & ~0xff
                return UInt32(truncatingIfNeeded: major << 20 | minor)
            }
            guard let slash = path.lastIndex(of: "/"), path != "/" else { return nil }
            path = slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }

    private static func update(_ fd: Int32, key: [UInt8], value: [UInt8], what: String) throws(SensorError) {
        let rc = key.withUnsafeBytes { k in value.withUnsafeBytes { v in bpf_map_update_elem(fd, k.baseAddress, v.baseAddress, 0) } }
        if rc != 0 { throw .call("bpf_map_update_elem", errno: errno, context: "map \(what)") }
    }

    /// Leaves a cgroup2's events out in the kernel (or lets them in again).
    /// Needs `cgroupFilter`; a full map leaves the cgroup's events in.
    @discardableResult
    public func ignoreCgroup(_ id: CgroupID, _ ignored: Bool = true) -> Bool {
        guard options.cgroupFilter else { return false }
        var key = id.rawValue
        if ignored {
            var one: UInt8 = 1
            return bpf_map_update_elem(ignoreCgroupsFD, &key, &one, 0) == 0
        }
        return bpf_map_delete_elem(ignoreCgroupsFD, &key) == 0
    }

    /// Stops the programs; records already in the ring can still be consumed,
    /// so a drain after this loses nothing.
    public func detach() {
        bpf.detachAll()
    }

    /// Detaches everything and frees the ring.
    public func close() {
        bpf.detachAll()
        if let r = ring { ring_buffer__free(r) }
        ring = nil
    }

    /// An fd that polls readable when records are waiting.
    public var pollFD: Int32 { ring.map { ring_buffer__epoll_fd($0) } ?? -1 }

    /// Hands every waiting record to `handler` (bytes valid only during the
    /// call); returns how many.
    @discardableResult
    public func consume(_ handler: (UnsafeRawBufferPointer) -> Void) throws(SensorError) -> Int {
        guard let ring else { return 0 }
        let rc: Int32 = withoutActuallyEscaping(handler) { h in
            sink.handler = h
            defer { sink.handler = nil }
            return ring_buffer__consume(ring)
        }
        if rc < 0 { throw .call("ring_buffer__consume", errno: -rc, context: "map events") }
        return Int(rc)
    }

    /// The kernel's per-kind counters, summed over CPUs.
    public func counters() -> [EventKind: KindCounters] {
        var out: [EventKind: KindCounters] = [:]
        for kind in EventKind.allCases {
            var c = KindCounters()
            let base = UInt32(kind.wireValue) * UInt32(BW_STAT_N.rawValue)
            func read(_ stat: bw_stat) -> UInt64 {
                BPFObject.perCPU(fd: statsFD, key: base + stat.rawValue, into: &scratch) ? scratch.reduce(0, &+) : 0
            }
            c.seen = read(BW_STAT_SEEN)
            c.dropped = read(BW_STAT_DROPPED)
            c.submitted = c.seen &- c.dropped  // the kernel counts seen and dropped only
            c.filtered = read(BW_STAT_FILTERED)
            out[kind] = c
        }
        return out
    }
}

extension Sensor {
    /// Each CPU's next sequence number: every record the kernel tried to
    /// send took one, so after a drain the numbers never received are
    /// exactly the drops, those after the last record that arrived included.
    public func sequenceHeads() -> [UInt32: UInt64] {
        var out: [UInt32: UInt64] = [:]
        guard BPFObject.perCPU(fd: seqsFD, key: 0, into: &scratch) else { return out }
        for (cpu, next) in scratch.enumerated() where next > 0 { out[UInt32(cpu)] = next }
        return out
    }
}

/// Carries the current handler into libbpf's C callback.
private final class RingSink {
    var handler: ((UnsafeRawBufferPointer) -> Void)?
}
