import BoxwatchCore
import BoxwatchHost
import Glibc

let boxwatchVersion = "0.1.0"

/// `boxwatch tail`: load, attach, print events until stopped.
struct Tail {
    let sensorArgs: SensorArgs
    let output: OutputArgs
    /// --record FILE: also write the same records to a dump.
    let recordPath: String?

    init(_ args: Arguments) throws {
        var args = args
        sensorArgs = try SensorArgs(&args)
        output = try OutputArgs(&args)
        recordPath = try args.value("--record")
        if recordPath?.isEmpty == true { throw UsageError(message: "boxwatch tail: --record needs a file name") }
        try args.finish()
    }

    func run() -> Int32 {
        let out = FDWriter(fd: 1)
        let session = LiveSession(sensorArgs)
        let pipeline = Pipeline(table: session.table, filter: output.filter, formatter: output.formatter,
                                clock: HostClock.sample())
        let recorder = recordPath.map { DumpRecorder(path: $0, maxSize: nil, session: session, clock: pipeline.clock) }
        let resolver = MetadataResolver()
        pipeline.onLifecycle = { if case .started(let s, _) = $0 { resolver.request(s.info) } }
        session.requestMetadata(resolver)
        stderrWriter.write(session.attachedMessage(recordPath.map { "; recording to \($0)" } ?? ""))
        if !output.json && isatty(1) == 1 { out.write(TextFormatter.header + "\n") }
        var text = ""
        text.reserveCapacity(1 << 16)
        var counters = recorder?.baseline ?? session.sensor.counters()
        var reportedUndecodable = 0
        let status = session.run(
            record: { raw in
                recorder?.record(raw)
                pipeline.handle(raw, into: &text)
            },
            flush: {
                // metadata found since the last batch applies from the next one, live and in the dump
                for (id, m) in resolver.take() {
                    session.table.setMetadata(m, for: id)
                    recorder?.metadata(id, m)
                }
                if let status = recorder?.flush() { return status }
                guard !text.isEmpty else { return nil }
                defer { text.removeAll(keepingCapacity: true) }
                switch out.write(text, stopFD: session.signals.fd) {
                case .written, .interrupted: return nil
                case .closed: return 0  // the reader went away (e.g. `| head`): not an error
                case .failed(let e):
                    stderrWriter.write("boxwatch: writing the output failed: \(String(cString: strerror(e)))\n")
                    return 1
                }
            },
            tick: { now, clock in
                recorder?.tick(now, clock)
                pipeline.clock = clock  // follows clock steps (NTP, date -s)
                if let line = LossReport.line(since: counters, now: now) { stderrWriter.write(line) }
                counters = now
                if pipeline.undecodable > reportedUndecodable, let e = pipeline.lastError {
                    stderrWriter.write("boxwatch: \(pipeline.undecodable - reportedUndecodable) undecodable records (last: \(e))\n")
                    reportedUndecodable = pipeline.undecodable
                }
            },
            watchFD: 1)
        let end = recorder?.finish()
        session.sensor.close()
        return end ?? status
    }
}
