import BoxwatchCore
import BoxwatchHost
import Glibc

let boxwatchVersion = "0.1.0"

/// `boxwatch tail`: load, attach, print scored events and alerts until
/// stopped. `boxwatch run` is the agent: the same loop printing alerts only,
/// with baselines kept in a state directory and SIGHUP reloading the config.
struct Tail {
    let sensorArgs: SensorArgs
    let output: OutputArgs
    let scoring: ScoringArgs
    /// --record FILE: also write the same records to a dump.
    let recordPath: String?
    let agent: Bool

    init(_ args: Arguments, agent: Bool = false) throws {
        var args = args
        self.agent = agent
        sensorArgs = try SensorArgs(&args)
        output = try OutputArgs(&args)
        scoring = try ScoringArgs(&args, defaultStateDir: agent ? "/var/lib/boxwatch" : nil)
        if agent && !scoring.enabled { throw UsageError(message: "boxwatch run: --no-score leaves nothing to report (use tail)") }
        recordPath = try args.value("--record")
        if recordPath?.isEmpty == true { throw UsageError(message: "\(args.command): --record needs a file name") }
        try args.finish()
    }

    func run() -> Int32 {
        let out = FDWriter(fd: 1)
        let made = scoring.makeScorer(persist: true)  // config errors end here, before anything loads
        let scorer = made?.0
        var saver = BaselineSaver(dir: scorer?.config.stateDirectory)
        let session = LiveSession(sensorArgs)
        let pipeline = Pipeline(table: session.table, filter: output.filter, formatter: output.formatter,
                                clock: HostClock.sample())
        pipeline.scorer = scorer
        pipeline.showEvents = !agent
        let recorder = recordPath.map { DumpRecorder(path: $0, maxSize: nil, session: session, clock: pipeline.clock) }
        if let sources = made?.1 { recorder?.scoring(sources) }  // replay scores as this run does
        let resolver = sensorArgs.metadataResolver()
        pipeline.onLifecycle = { if case .started(let s, _) = $0 { resolver.request(s.info) } }
        session.requestMetadata(resolver)
        stderrWriter.write(session.attachedMessage(recordPath.map { "; recording to \($0)" } ?? ""))
        if let scorer {
            stderrWriter.write("boxwatch: scoring: threshold \(scorer.config.threshold), \(scorer.iocs.count) IOC entries, "
                               + "\(scorer.baselines.entries.count) baselines"
                               + (scorer.config.stateDirectory.map { " in \($0)" } ?? " (in memory)")
                               + (scorer.config.learningMode ? ", learning mode (no alerts)" : "") + "\n")
        }
        if !agent && !output.json && isatty(1) == 1 { out.write(TextFormatter.header + "\n") }
        var text = ""
        text.reserveCapacity(1 << 16)
        var counters = recorder?.baseline ?? session.sensor.counters()
        var countersAt = recorder?.baselineUnixNanos ?? HostClock.unixNanos()
        var reportedUndecodable = 0
        var writeStatus: Int32?  // set when the output ended or failed
        func emit() {
            defer { text.removeAll(keepingCapacity: true) }  // also once the output has ended
            guard !text.isEmpty, writeStatus == nil else { return }
            switch out.write(text, stopFD: session.signals.fd) {
            case .written, .interrupted: break
            case .closed: writeStatus = 0  // the reader went away (e.g. `| head`): not an error
            case .failed(let e):
                stderrWriter.write("boxwatch: writing the output failed: \(String(cString: strerror(e)))\n")
                writeStatus = 1
            }
        }
        let status = session.run(
            record: { raw in
                recorder?.record(raw)
                pipeline.handle(raw, into: &text)
                // a reader far behind drains a whole ring in one batch: print it
                // as it goes rather than holding megabytes of lines
                if text.utf8.count >= 1 << 20 { emit() }
            },
            flush: {
                // metadata found since the last batch applies from the next one, live and in the dump
                for (id, m) in resolver.take() {
                    pipeline.setMetadata(m, for: id, into: &text)
                    recorder?.metadata(id, m)
                }
                if let status = recorder?.flush() { return status }
                emit()
                return writeStatus
            },
            tick: { now, clock, at in
                recorder?.tick(now, clock, at: at)
                pipeline.clock = clock  // follows clock steps (NTP, date -s)
                if let line = pipeline.counters(since: counters, now: now, from: countersAt, to: at, into: &text) {
                    stderrWriter.write(line)
                }
                counters = now
                countersAt = at
                saver.maybeSave(scorer)
                if pipeline.undecodable > reportedUndecodable, let e = pipeline.lastError {
                    stderrWriter.write("boxwatch: \(pipeline.undecodable - reportedUndecodable) undecodable records (last: \(e))\n")
                    reportedUndecodable = pipeline.undecodable
                }
            },
            reload: scorer.map { scorer in {
                // SIGHUP: a bad file keeps the running configuration
                do {
                    var (config, iocs, sources) = try ScoringFiles.load(config: scoring.configPath, iocFiles: scoring.iocPaths)
                    config.learningMode = config.learningMode || scoring.learningMode
                    config.stateDirectory = scorer.config.stateDirectory
                    scorer.reconfigure(config, iocs: iocs)
                    sources.learningMode = scoring.learningMode
                    sources.atStart = false
                    recorder?.scoring(sources)
                    stderrWriter.write("boxwatch: reloaded: threshold \(config.threshold), \(iocs.count) IOC entries\n")
                } catch {
                    stderrWriter.write("boxwatch: reload failed, keeping the previous configuration: \(error)\n")
                }
            } },
            watchFD: 1)
        saver.maybeSave(scorer, force: true)
        if !text.isEmpty { out.write(text, stopFD: session.signals.fd) }  // the final loss record
        // detached and drained: every record the kernel counted is accounted for
        let balance = Conservation(counters: session.sensor.counters(), delivered: pipeline.delivered, sequence: pipeline.sequence,
                                   heads: session.sensor.sequenceHeads())
        stderrWriter.write(balance.line)
        let end = recorder?.finish()
        session.sensor.close()
        return end ?? status
    }
}
