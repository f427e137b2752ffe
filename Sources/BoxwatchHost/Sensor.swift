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

    public init(objectPath: String) { self.objectPath = objectPath }
}

/// The loaded and attached BPF programs and their ring buffer.
public final class Sensor {
    private let bpf: BPFObject
    private var ring: OpaquePointer?
    private let statsFD: Int32
    private let seqsFD: Int32
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
        let config = bw_config(self_tgid: UInt32(bitPattern: options.ignorePid ?? 0),
                               wakeup_bytes: min(options.wakeupBytes, UInt32(n / 4)),
                               v1_fallback: options.v1Fallback ? 1 : 0, _pad: 0)
        try bpf.setReadOnly("bw_cfg", config)
        try bpf.load()
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
            c.submitted = read(BW_STAT_SUBMITTED)
            c.dropped = read(BW_STAT_DROPPED)
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
