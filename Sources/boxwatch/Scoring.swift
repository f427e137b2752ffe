import BoxwatchCore
import BoxwatchHost
import Glibc
import Dispatch

/// Scoring options of tail, run and replay: --config, --ioc, --state-dir,
/// --learn, --no-score. Files are read and checked before the sensor loads.
struct ScoringArgs {
    var enabled = true
    var configPath: String?
    var iocPaths: [String] = []
    var stateDir: String?
    var learningMode = false

    init(_ args: inout Arguments, defaultStateDir: String? = nil) throws {
        let command = args.command
        enabled = !args.flag("--no-score")
        learningMode = args.flag("--learn")
        configPath = try args.value("--config")
        iocPaths = try args.values("--ioc")
        stateDir = try args.value("--state-dir")
        for (name, v) in [("--config", configPath), ("--state-dir", stateDir)] + iocPaths.map({ ("--ioc", Optional($0)) }) where v?.isEmpty == true {
            throw UsageError(message: "\(command): \(name) needs a file name")
        }
        if !enabled && (configPath != nil || !iocPaths.isEmpty || stateDir != nil || learningMode) {
            throw UsageError(message: "\(command): --no-score cannot be combined with --config, --ioc, --state-dir or --learn")
        }
        if stateDir == nil { stateDir = defaultStateDir }
    }

    /// Whether the user named any scoring input (replay then ignores the dump's).
    var explicit: Bool { configPath != nil || !iocPaths.isEmpty || stateDir != nil || learningMode }

    /// Reads the config and IOC files; a bad one ends the command with its error.
    func load() -> (ScoringConfig, NetworkSet, ScoringSources) {
        do {
            var (config, iocs, sources) = try ScoringFiles.load(config: configPath, iocFiles: iocPaths)
            if learningMode { config.learningMode = true; sources.learningMode = true }
            if let stateDir { config.stateDirectory = stateDir }
            return (config, iocs, sources)
        } catch {
            fail("\(error)", code: 1)
        }
    }

    /// The scorer with the saved baselines (nil when scoring is off), and
    /// what it was built from. `persist`: this process will save them (it
    /// locks the directory).
    func makeScorer(persist: Bool) -> (Scorer, ScoringSources)? {
        guard enabled else { return nil }
        var (config, iocs, sources) = load()
        var baselines: BaselineStore?
        if let dir = config.stateDirectory {
            do {
                if persist { try BaselineFile.lock(dir: dir) }
                baselines = try BaselineFile.load(dir: dir, config: config, owner: persist)
            } catch {
                fail("\(error)" + (persist ? "" : " (move the file away to start learning afresh)"), code: 1)
            }
        }
        let scorer = Scorer(config: config, iocs: iocs, baselines: baselines)
        sources.baselines = scorer.baselines.snapshot(forSave: false).text()
        return (scorer, sources)
    }
}

/// Keeps the scorer's baselines on disk: every 30 s when changed (written
/// on a background queue from a snapshot, so the event loop never waits on
/// it), and at exit (after any save still running).
struct BaselineSaver {
    let dir: String?
    var lastSave = HostClock.monotonicSeconds()
    private let queue = DispatchQueue(label: "boxwatch.baselines")

    init(dir: String?) { self.dir = dir }

    mutating func maybeSave(_ scorer: Scorer?, force: Bool = false) {
        guard let dir, let scorer, scorer.baselines.dirty else { return }
        let now = HostClock.monotonicSeconds()
        guard force || now - lastSave >= 30 else { return }
        lastSave = now
        let snapshot = scorer.baselines.snapshot()
        let write: @Sendable () -> Void = {
            do {
                try BaselineFile.save(snapshot, dir: dir)
            } catch {
                stderrWriter.write("boxwatch: saving baselines failed (the previous file is kept): \(error)\n")
            }
        }
        if force { queue.sync(execute: write) } else { queue.async(execute: write) }
    }
}

/// `boxwatch check-config FILE [--ioc FILE...]`: validates without running.
struct CheckConfig {
    let path: String
    let iocPaths: [String]

    init(_ args: Arguments) throws {
        var args = args
        iocPaths = try args.values("--ioc")
        let rest = args.remaining
        guard rest.count == 1, !rest[0].hasPrefix("-") else {
            try args.finish()
            throw UsageError(message: "boxwatch check-config: give one config file (and --ioc FILE for IOC lists)")
        }
        path = rest[0]
    }

    func run() -> Int32 {
        do {
            let (config, iocs, _) = try ScoringFiles.load(config: path, iocFiles: iocPaths)
            print("\(path): ok: threshold \(config.threshold), window \(config.windowSeconds) s, learning \(config.learningSeconds) s"
                  + ", \(config.allow.count) allow rule\(config.allow.count == 1 ? "" : "s"), \(config.sensitivePaths.count) sensitive paths"
                  + ", \(iocs.count) IOC entr\(iocs.count == 1 ? "y" : "ies")")
            return 0
        } catch {
            FDWriter(fd: 2).write("boxwatch: \(error)\n")
            return 1
        }
    }
}
