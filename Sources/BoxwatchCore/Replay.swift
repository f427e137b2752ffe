/// Feeds a dump's blocks through the same pipeline as the live tail: state
/// snapshots fill the container table, clock blocks move the wall clock as
/// the live run moved it, records are decoded, attributed and formatted by
/// the same code, and statistics blocks give the same loss lines.
public final class Replay {
    public let pipeline: Pipeline
    public private(set) var header: DumpHeader?
    public private(set) var records = 0
    public private(set) var perKind: [EventKind: Int] = [:]
    public private(set) var firstBootNanos: UInt64?
    public private(set) var lastBootNanos: UInt64?
    public private(set) var stopUnixNanos: Int64?
    public private(set) var lastStats: KernelCounters = [:]
    public private(set) var unknownBlocks = 0
    /// Score with the configuration and baselines the run recorded (off when
    /// the user gave their own with --config, --ioc or --state-dir).
    public var followRecordedScoring = true
    private var statsSeen = false
    private var lastStatsUnixNanos: Int64 = 0

    public init(pipeline: Pipeline) {
        self.pipeline = pipeline
    }

    /// Applies one block; event lines go to `out`, loss lines to `log`.
    public func apply(_ block: DumpBlock, out: inout String, log: inout String) {
        switch block {
        case .header(let h):
            header = h
            pipeline.clock = WallClock(offsetNanos: h.clockOffsetNanos)
        case .cgroups(let list):
            for (id, path) in list { pipeline.table.learn(id, path: path) }
        case .processes(let list):
            for p in list { pipeline.table.processes.note(pid: p.pid, ppid: p.ppid, comm: p.comm) }
        case .record(_, let bytes):
            records += 1
            bytes.withUnsafeBytes { raw in
                if let e = pipeline.handle(raw, into: &out) {
                    perKind[e.kind, default: 0] += 1
                    let t = e.header.bootTimeNanos
                    if firstBootNanos == nil { firstBootNanos = t }
                    lastBootNanos = max(lastBootNanos ?? t, t)
                }
            }
        case .stats(let s):
            let now = s.counters
            if statsSeen, let line = pipeline.counters(since: lastStats, now: now, from: lastStatsUnixNanos, to: s.unixNanos, into: &out) {
                log += line
            }
            lastStats = now
            lastStatsUnixNanos = s.unixNanos
            statsSeen = true
        case .clock(let offset):
            pipeline.clock = WallClock(offsetNanos: offset)
        case .end(let stop, _):
            stopUnixNanos = stop
        case .metadata(let id, let m):
            pipeline.setMetadata(m, for: id, into: &out)
        case .scoring(let src):
            guard followRecordedScoring, let current = pipeline.scorer else { return }
            do {
                let (config, iocs, store) = try src.build()
                if src.atStart {
                    pipeline.scorer = Scorer(config: config, iocs: iocs, baselines: store)
                    if src.baselinesOmitted {
                        log += "boxwatch replay: the run's baselines were too large for the dump: scoring starts without them\n"
                    }
                } else {
                    current.reconfigure(config, iocs: iocs)
                }
            } catch {
                log += "boxwatch replay: the dump's scoring configuration does not load (\(error)); scoring with the default\n"
            }
        case .unknown:
            unknownBlocks += 1
        }
    }

    /// `replay --info`: the header, counts per kind, losses, time span.
    public func info(bytes: Int) -> String {
        var s = ""
        if let h = header {
            s += "format:       boxwatch dump v\(DumpFormat.version), wire v\(h.wireVersion), \(bytes) bytes\n"
            s += "host:         \(h.hostname), kernel \(h.kernelRelease) \(h.architecture), \(h.cpuCount) CPUs, cgroups \(h.cgroupMode)\n"
            s += "sensor:       boxwatch \(h.boxwatchVersion), object fnv1a64:\(hex(h.objectHash)), ring \(h.ringSize) bytes\n"
            s += "btf:          fnv1a64:\(hex(h.btfHash)), \(h.btfSize) bytes\n"
            s += "capture:      \(UTCTime(unixNanos: h.captureStartUnixNanos).iso8601) to "
                + (stopUnixNanos.map { UTCTime(unixNanos: $0).iso8601 } ?? "(no end block: capture cut short)") + "\n"
        }
        let kinds = EventKind.allCases.map { "\($0.rawValue)=\(perKind[$0] ?? 0)" }.joined(separator: " ")
        s += "records:      \(records) (\(kinds))\n"
        if let a = firstBootNanos, let b = lastBootNanos {
            s += "event span:   \(Double(b &- a) / 1e9) s\n"
        }
        let dropped = lastStats.values.reduce(UInt64(0)) { $0 &+ $1.dropped }
        let byKind = EventKind.allCases.compactMap { k in lastStats[k].flatMap { $0.dropped > 0 ? "\(k.rawValue)=\($0.dropped)" : nil } }
        s += "lost:         \(dropped)" + (byKind.isEmpty ? "" : " (\(byKind.joined(separator: " ")))") + "\n"
        if pipeline.undecodable > 0 { s += "undecodable:  \(pipeline.undecodable) records (last: \(pipeline.lastError.map { "\($0)" } ?? "?"))\n" }
        if unknownBlocks > 0 { s += "skipped:      \(unknownBlocks) blocks of unknown type\n" }
        return s
    }

    private func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
