/// Kernel counters for one kind of record, summed over CPUs.
public struct KindCounters: Sendable, Equatable {
    public var seen: UInt64 = 0
    public var submitted: UInt64 = 0
    public var dropped: UInt64 = 0
    /// Left out in the kernel by an ignored path prefix (not seen, no sequence
    /// number: not a loss). Live only; dumps do not carry it.
    public var filtered: UInt64 = 0

    public init(seen: UInt64 = 0, submitted: UInt64 = 0, dropped: UInt64 = 0, filtered: UInt64 = 0) {
        self.seen = seen; self.submitted = submitted; self.dropped = dropped; self.filtered = filtered
    }
}

public typealias KernelCounters = [EventKind: KindCounters]

/// Records the kernel dropped between two counter snapshots: an in-band
/// `lost` record in the output (and, from the dump's statistics blocks, in
/// replay), so a reader of the stream alone knows where it has holes.
public struct LossWindow: Sendable, Equatable {
    /// Unix nanoseconds of the two snapshots.
    public var from: Int64
    public var to: Int64
    public var byKind: [EventKind: UInt64]

    public var total: UInt64 { byKind.values.reduce(0, &+) }

    /// Nil when nothing was dropped in the window.
    public init?(since old: KernelCounters, now: KernelCounters, from: Int64, to: Int64) {
        var byKind: [EventKind: UInt64] = [:]
        for kind in EventKind.allCases {
            let d = (now[kind]?.dropped ?? 0) &- (old[kind]?.dropped ?? 0)
            if d > 0 { byKind[kind] = d }
        }
        guard !byKind.isEmpty else { return nil }
        self.from = from
        self.to = to
        self.byKind = byKind
    }

    /// "open=120 exec=3", in kind order.
    public var kinds: String {
        EventKind.allCases.compactMap { k in byKind[k].map { "\(k.rawValue)=\($0)" } }.joined(separator: " ")
    }
}

/// The loss summary for stderr, once per window with drops.
public enum LossReport {
    public static func line(_ w: LossWindow) -> String {
        "boxwatch: LOST \(w.total) events (ring buffer full): \(w.kinds); consider a larger --ring-size\n"
    }

    /// One line when anything was dropped between two snapshots, else nil.
    public static func line(since old: KernelCounters, now: KernelCounters) -> String? {
        LossWindow(since: old, now: now, from: 0, to: 0).map(line)
    }
}

/// Per-CPU sequence numbers: every record the kernel tried to send took the
/// next number of its CPU, so numbers never seen are records dropped (or,
/// for a moment, still being written). Order within a CPU may be off by a
/// little (a program preempted between numbering and submitting): a late
/// number fills the gap it left.
public struct SequenceTracker: Sendable {
    private var next: [UInt32: UInt64] = [:]
    /// Numbers skipped so far, over all CPUs.
    public private(set) var missing: Int64 = 0
    public private(set) var received: UInt64 = 0

    public init() {}

    public mutating func saw(cpu: UInt32, seq: UInt64) {
        received &+= 1
        let expected = next[cpu] ?? 0
        // wrapping arithmetic: a corrupt record may carry any number (fuzzing found it)
        if seq >= expected {
            missing &+= Int64(clamping: seq - expected)
            next[cpu] = seq &+ 1
        } else {
            missing &-= 1  // late: it was counted missing when a later number came
        }
    }

    /// Numbers handed out that never arrived, given each CPU's next number
    /// in the kernel (`heads`). After the programs are detached and the ring
    /// drained this is exact: it also counts drops after a CPU's last
    /// delivered record, which no later number can reveal.
    public func missing(heads: [UInt32: UInt64]) -> Int64 {
        Int64(clamping: heads.values.reduce(0, &+)) &- Int64(clamping: received)
    }
}

/// At the end of a live run (programs detached, ring drained): what the
/// kernel saw must equal what arrived plus what it dropped, kind by kind,
/// and the sequence gaps must equal the drops.
public struct Conservation: Sendable, Equatable {
    public var seen: UInt64 = 0
    public var delivered: UInt64 = 0
    public var dropped: UInt64 = 0
    public var sequenceGaps: Int64 = 0
    public var filtered: UInt64 = 0
    /// Kinds whose counts do not add up.
    public var unbalanced: [EventKind] = []

    /// `heads`: each CPU's next sequence number in the kernel, read after the
    /// drain (nil: only the gaps between delivered records are known).
    public init(counters: KernelCounters, delivered: [EventKind: UInt64], sequence: SequenceTracker,
                heads: [UInt32: UInt64]? = nil) {
        for kind in EventKind.allCases {
            let c = counters[kind] ?? KindCounters()
            let d = delivered[kind] ?? 0
            seen &+= c.seen
            self.delivered &+= d
            dropped &+= c.dropped
            filtered &+= c.filtered
            if c.seen != d &+ c.dropped { unbalanced.append(kind) }
        }
        sequenceGaps = heads.map { sequence.missing(heads: $0) } ?? sequence.missing
    }

    public var holds: Bool { unbalanced.isEmpty && sequenceGaps == Int64(dropped) }

    public var line: String {
        "boxwatch: accounting: seen \(seen) = delivered \(delivered) + dropped \(dropped)"
            + (unbalanced.isEmpty ? "" : " DOES NOT HOLD for \(unbalanced.map(\.rawValue).joined(separator: ","))")
            + "; sequence gaps \(sequenceGaps)" + (sequenceGaps == Int64(dropped) ? " = dropped" : " != dropped")
            + (holds ? " (exact)" : "")
            + (filtered > 0 ? "; \(filtered) left out by ignored path prefixes" : "") + "\n"
    }
}

extension DumpStats {
    public init(unixNanos: Int64, counters: KernelCounters) {
        self.init(unixNanos: unixNanos, kinds: EventKind.allCases.compactMap { kind in
            counters[kind].map { KindStats(kind: kind.wireValue, seen: $0.seen, submitted: $0.submitted, dropped: $0.dropped) }
        })
    }

    public var counters: KernelCounters {
        var out: KernelCounters = [:]
        for k in kinds {
            if let kind = EventKind(wire: k.kind) {
                out[kind] = KindCounters(seen: k.seen, submitted: k.submitted, dropped: k.dropped)
            }
        }
        return out
    }
}
