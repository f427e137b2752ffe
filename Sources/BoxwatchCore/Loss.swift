/// Kernel counters for one kind of record, summed over CPUs.
public struct KindCounters: Sendable, Equatable {
    public var seen: UInt64 = 0
    public var submitted: UInt64 = 0
    public var dropped: UInt64 = 0

    public init(seen: UInt64 = 0, submitted: UInt64 = 0, dropped: UInt64 = 0) {
        self.seen = seen; self.submitted = submitted; self.dropped = dropped
    }
}

public typealias KernelCounters = [EventKind: KindCounters]

/// The loss summary the live tail prints once a second, and replay prints
/// again from the dump's statistics blocks, so both show the same gaps.
public enum LossReport {
    /// One line when anything was dropped between two snapshots, else nil.
    public static func line(since old: KernelCounters, now: KernelCounters) -> String? {
        var parts: [String] = []
        var total: UInt64 = 0
        for kind in EventKind.allCases {
            let d = (now[kind]?.dropped ?? 0) &- (old[kind]?.dropped ?? 0)
            if d > 0 { parts.append("\(kind.rawValue)=\(d)"); total &+= d }
        }
        guard total > 0 else { return nil }
        return "boxwatch: LOST \(total) events (ring buffer full): \(parts.joined(separator: " ")); consider a larger --ring-size\n"
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
