import BoxwatchCore
import BoxwatchHost
import Glibc

/// Writes a live session into a dump: header and state snapshots first, then
/// every ring record verbatim, clock changes and counters once a second.
/// Used by `record`, and by `tail --record`, which then prints and records
/// the very same records (so its replay is line-for-line the same).
final class DumpRecorder {
    private(set) var writer: DumpWriter
    let path: String
    let maxSize: Int?
    /// With maxSize: go on in PATH.1, PATH.2, ... instead of stopping.
    let rotate: Bool
    private let session: LiveSession
    private(set) var records: UInt64 = 0
    private var fileRecords: UInt64 = 0
    private var files = 1
    private var clock: WallClock
    private var counters: KernelCounters
    /// The counters in the first stats block: the live loss lines count from
    /// here too, so live and replayed LOST lines agree from the first second.
    let baseline: KernelCounters
    /// When the first stats block was taken (the first loss window starts there).
    let baselineUnixNanos: Int64
    private var arrival = HostClock.unixNanos()

    init(path: String, maxSize: Int?, rotate: Bool = false, session: LiveSession, clock: WallClock) {
        self.path = path
        self.maxSize = maxSize
        self.rotate = rotate
        self.session = session
        self.clock = clock
        counters = session.sensor.counters()
        baseline = counters
        baselineUnixNanos = HostClock.unixNanos()
        writer = Self.open(path)
        var ids: [String: CgroupID] = [:]
        for (id, p) in session.table.allPaths { ids[p] = id }
        start(processes: HostFacts.processes(cgroupIDs: ids))
        do { try writer.flush() } catch { fail("\(error)", code: 1) }
    }

    private static func open(_ path: String) -> DumpWriter {
        do { return try DumpWriter(path: path) } catch { fail("\(error)", code: 1) }
    }

    /// Header and state snapshots: every file replays on its own.
    private func start(processes: [ProcessSnapshot]) {
        writer.append(DumpEncoder.header(HostFacts.header(objectPath: session.objectPath, ringSize: session.args.ringBytes,
                                                          clock: clock, version: boxwatchVersion)))
        writer.append(DumpEncoder.cgroups(session.table.allPaths))
        writer.append(DumpEncoder.processes(processes))
        writer.append(DumpEncoder.stats(DumpStats(unixNanos: lastStatsUnixNanos, counters: counters)))
    }
    private var lastStatsUnixNanos: Int64 { statsTime ?? baselineUnixNanos }
    private var statsTime: Int64?

    /// The session's table must follow the cgroup records (tail's pipeline
    /// does that; `record` calls `follow`): a rotated file's snapshot is taken from it.
    func record(_ raw: UnsafeRawBufferPointer) {
        writer.appendRecord(arrivalUnixNanos: arrival, raw)
        records += 1
        fileRecords += 1
    }

    func metadata(_ id: ContainerID, _ m: ContainerMetadata) {
        writer.append(DumpEncoder.metadata(id, m))
    }

    /// After each batch: nil to go on, else the exit status.
    func flush() -> Int32? {
        do { try writer.flush() } catch {
            stderrWriter.write("boxwatch: \(error)\n")
            return 1
        }
        arrival = HostClock.unixNanos()  // one clock read per batch
        // a file holding no records yet is never cut: its snapshots alone may exceed the size
        guard let max = maxSize, writer.bytesWritten >= max, fileRecords > 0 else { return nil }
        guard rotate else {
            stderrWriter.write("boxwatch: --max-size reached (\(writer.bytesWritten) bytes)\n")
            return 0
        }
        if let status = end() { return status }
        let next = "\(path).\(files)"
        files += 1
        writer = Self.open(next)
        fileRecords = 0
        // processes are not rescanned: the exec records since the start tell what ran
        start(processes: [])
        do { try writer.flush() } catch { stderrWriter.write("boxwatch: \(error)\n"); return 1 }
        stderrWriter.write("boxwatch: --max-size reached; continuing in \(next)\n")
        return nil
    }

    /// The scoring sources from here on (the start, or a reload).
    func scoring(_ sources: ScoringSources) {
        writer.append(DumpEncoder.scoring(sources))
    }

    /// Counters at `unixNanos` (the same instant the live loss record uses).
    func tick(_ now: KernelCounters, _ nowClock: WallClock, at unixNanos: Int64) {
        if nowClock != clock {
            writer.append(DumpEncoder.clock(offsetNanos: nowClock.offsetNanos))
            clock = nowClock
        }
        counters = now
        statsTime = unixNanos
        writer.append(DumpEncoder.stats(DumpStats(unixNanos: unixNanos, counters: now)))
    }

    private func end() -> Int32? {
        writer.append(DumpEncoder.end(stopUnixNanos: HostClock.unixNanos(), records: fileRecords))
        do { try writer.flush() } catch {
            stderrWriter.write("boxwatch: \(error)\n")
            return 1
        }
        writer.sync()
        return nil
    }

    func finish() -> Int32? {
        let status = end()
        stderrWriter.write("boxwatch: recorded \(records) records, \(writer.bytesWritten) bytes to \(writer.path)"
                           + (files > 1 ? " (the last of \(files) files)" : "") + "\n")
        return status
    }
}

/// `boxwatch record --output FILE`: capture without printing events.
struct Record {
    let sensorArgs: SensorArgs
    let output: String
    let maxSize: Int?
    let rotate: Bool
    /// Keep only the records this filter shows (cgroup records are always kept).
    let filter: EventFilter?

    init(_ args: Arguments) throws {
        var args = args
        sensorArgs = try SensorArgs(&args)
        let narrowing = try OutputArgs(&args)
        var f = narrowing.filter
        f.kinds.formUnion([.cgroupCreated, .cgroupRemoved, .fork])
        filter = narrowing.filter.narrows || narrowing.filter.kinds != EventFilter().kinds ? f : nil
        // container lines are derived from cgroup records, which are always kept
        guard let o = try args.value("--output"), !o.isEmpty else {
            throw UsageError(message: "boxwatch record: --output FILE is required")
        }
        output = o
        maxSize = try args.value("--max-size").map { try parseSize($0, option: "boxwatch record: --max-size") }
        rotate = args.flag("--rotate")
        if rotate && maxSize == nil { throw UsageError(message: "boxwatch record: --rotate needs --max-size") }
        try args.finish()
    }

    func run() -> Int32 {
        let session = LiveSession(sensorArgs)
        let recorder = DumpRecorder(path: output, maxSize: maxSize, rotate: rotate, session: session, clock: HostClock.sample())
        stderrWriter.write(session.attachedMessage("; recording to \(output)"))
        var counters = recorder.baseline
        let resolver = sensorArgs.metadataResolver()
        session.requestMetadata(resolver)
        func follow(_ e: Event) {
            if case .started(let s, _)? = session.table.apply(e) { resolver.request(s.info) }
        }
        // with a filter: decode to decide, and keep the table current for --cgroup/--container
        let keep: (UnsafeRawBufferPointer) -> Bool
        if let f = filter {
            keep = { raw in
                guard let e = try? RecordDecoder.decode(raw) else { return true }  // keep what we cannot judge
                follow(e)
                switch e.detail {  // state: replay needs every cgroup's path and the process tree
                case .cgroup, .fork: return true
                default: break
                }
                return f.accepts(e, session.table.attribution(for: e.header), cgroupPath: session.table.path(of: e.header.cgroup))
            }
        } else {
            keep = { raw in  // decode only the (rare) cgroup records, to keep the table current
                let kind = raw.count >= 2 ? UInt16(raw[0]) | UInt16(raw[1]) << 8 : 0
                if kind == EventKind.cgroupCreated.wireValue || kind == EventKind.cgroupRemoved.wireValue
                    || kind == EventKind.fork.wireValue,
                   let e = try? RecordDecoder.decode(raw) {
                    follow(e)
                }
                return true
            }
        }
        let status = session.run(
            record: { raw in if keep(raw) { recorder.record(raw) } },
            flush: {
                for (id, m) in resolver.take() {
                    session.table.setMetadata(m, for: id)
                    recorder.metadata(id, m)
                }
                return recorder.flush()
            },
            tick: { now, clock, at in
                recorder.tick(now, clock, at: at)
                if let line = LossReport.line(since: counters, now: now) { stderrWriter.write(line) }
                counters = now
            })
        let end = recorder.finish()
        session.sensor.close()
        return end ?? status
    }
}

/// Writes replay output; nil to go on, else the exit status (0 when the
/// reader went away, 1 when the write failed).
func write(_ out: FDWriter, _ text: String) -> Int32? {
    switch out.write(text) {
    case .written, .interrupted: return nil
    case .closed: return 0
    case .failed(let e):
        stderrWriter.write("boxwatch replay: writing the output failed: \(String(cString: strerror(e)))\n")
        return 1
    }
}

/// `boxwatch replay FILE`: a dump through the live tail's pipeline.
struct Replay {
    let path: String
    let output: OutputArgs
    let info: Bool
    let containers: Bool
    let realtime: Bool
    let scoring: ScoringArgs
    /// --alerts-only: print what `boxwatch run` printed live.
    let alertsOnly: Bool

    init(_ args: Arguments) throws {
        var args = args
        info = args.flag("--info")
        containers = args.flag("--containers")
        alertsOnly = args.flag("--alerts-only")
        output = try OutputArgs(&args)
        scoring = try ScoringArgs(&args)  // baselines from --state-dir are read, never written
        if alertsOnly && !scoring.enabled { throw UsageError(message: "boxwatch replay: --alerts-only needs scoring (drop --no-score)") }
        switch try args.value("--speed") ?? "max" {
        case "max": realtime = false
        case "realtime": realtime = true
        case let other: throw UsageError(message: "boxwatch replay: --speed '\(other)' is not realtime or max")
        }
        let files = args.remaining
        if let option = files.first(where: { $0.hasPrefix("-") }) {
            throw UsageError(message: "boxwatch replay: unknown option '\(option)' (see 'boxwatch help')")
        }
        guard files.count == 1, let file = files.first else {
            throw UsageError(message: files.isEmpty ? "boxwatch replay: which dump file? (boxwatch replay FILE)"
                                                    : "boxwatch replay: one dump file at a time (got \(files.count))")
        }
        path = file
    }

    func run() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        var reader: DumpFileReader
        do { reader = try DumpFileReader(path: path) } catch { fail("replay: \(error)", code: 1) }
        defer { reader.close() }
        let out = FDWriter(fd: 1)
        let pipeline = Pipeline(filter: output.filter, formatter: output.formatter, clock: WallClock(offsetNanos: 0))
        pipeline.scorer = scoring.makeScorer(persist: false)?.0
        pipeline.showEvents = !alertsOnly
        let replay = BoxwatchCore.Replay(pipeline: pipeline)
        replay.followRecordedScoring = !scoring.explicit
        var text = "", log = ""
        var failure: DumpError?
        var pacing: (boot: UInt64, mono: Double)?
        while true {
            let block: DumpBlock?
            do { block = try reader.next() } catch { failure = error; break }
            guard let block else { break }
            if realtime, case .record(_, let bytes) = block, let e = try? RecordDecoder.decode(bytes) {
                let now = HostClock.monotonicSeconds()
                if let p = pacing {
                    // signed: records from different CPUs can arrive slightly out of time order
                    let due = p.mono + Double(Int64(bitPattern: e.header.bootTimeNanos &- p.boot)) / 1e9
                    if due > now { usleep(UInt32(min(due - now, 3600) * 1e6)) }
                } else {
                    pacing = (e.header.bootTimeNanos, now)
                }
            }
            replay.apply(block, out: &text, log: &log)
            if !log.isEmpty { stderrWriter.write(log); log = "" }
            if info || containers { text = "" } else if text.utf8.count >= 1 << 16 || (realtime && !text.isEmpty) {
                if let status = write(out, text) { return status }
                text = ""
            }
        }
        if !info, !containers, !text.isEmpty, let status = write(out, text) { return status }
        if info { out.write(replay.info(bytes: reader.bytesRead)) }
        if containers {
            let list = pipeline.table.registry.listing
            out.write(output.json ? ContainerListing.json(list) : ContainerListing.text(list))
        }
        if let failure {
            stderrWriter.write("boxwatch replay: \(path): \(failure) (replayed \(replay.records) records before it)\n")
            return 1
        }
        if replay.stopUnixNanos == nil {
            stderrWriter.write("boxwatch replay: \(path): offset \(reader.bytesRead): the dump ends without its end block: "
                               + "the capture was cut short (replayed \(replay.records) records)\n")
            return 1
        }
        return 0
    }
}
