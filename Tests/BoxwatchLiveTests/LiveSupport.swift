import Foundation
import XCTest

/// The live tier: real kernel, real processes, real containers, as root.
/// Outside CI a test that cannot run is skipped; under CI=true it fails,
/// because a green run that tested nothing is a defect.
enum Live {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        ProcessInfo.processInfo.environment["BOXWATCH_BIN"]
            ?? repoRoot.appendingPathComponent(".build/debug/boxwatch").path
    }

    /// Throws (fail under CI, skip elsewhere) unless the sensor can run here.
    static func requireSensor() throws {
        var missing: [String] = []
        if geteuid() != 0 { missing.append("root") }
        if !FileManager.default.isExecutableFile(atPath: binary) { missing.append("the boxwatch binary at \(binary) (run scripts/setup.sh --debug)") }
        if !FileManager.default.fileExists(atPath: "/sys/kernel/tracing/events/syscalls") { missing.append("tracefs at /sys/kernel/tracing") }
        if !missing.isEmpty { try unavailable("live test needs " + missing.joined(separator: ", ")) }
    }

    static func unavailable(_ why: String) throws -> Never {
        if isCI { throw Unavailable(description: why + " (CI=true: failing instead of skipping)") }
        throw XCTSkip(why)
    }

    struct Result {
        var pid: Int32
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion with posix_spawn and waitpid (the
    /// child's pid is the pid of its events). Output goes through files, so
    /// a daemon the child leaves behind cannot hold a pipe open.
    @discardableResult
    static func run(_ path: String, _ args: [String] = []) throws -> Result {
        let dir = NSTemporaryDirectory() + "bw-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid = try spawn(path, args, stdout: dir + "/out", stderr: dir + "/err")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(pid: pid, status: exit,
                      stdout: (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "")
    }

    /// Starts a program with stdin from /dev/null and stdout/stderr to files.
    static func spawn(_ path: String, _ args: [String], stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        if rc != 0 { throw Unavailable(description: "posix_spawn \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Waits (up to 10 s) until a sensor started with stderr to `errPath` says it attached.
    @discardableResult
    static func waitAttached(_ errPath: String) -> Bool {
        for _ in 0..<400 {
            if ((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").contains("attached") { return true }
            usleep(25_000)
        }
        return false
    }

    /// Checks containers run one at a time: the events outside the host's pid
    /// namespace during each run (found without boxwatch's attribution) all
    /// carry that run's ID and runtime, and each ID has one start and one exit
    /// line with a lifetime. Returns (events checked, events right).
    static func checkContainerRuns(_ events: [ECSEvent], _ runs: [(id: String, from: Date, to: Date)],
                                   runtime: String, file: StaticString = #filePath, line: UInt = #line) -> (Int, Int) {
        let hostNS = hostPidNamespace()
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // each event's time and pid namespace, once (events are many, runs are many)
        let timed: [(e: ECSEvent, t: Date)] = events.compactMap { e in
            guard let ns = e.pidNamespace, ns != hostNS, let s = e.string("@timestamp"),
                  let t = iso.date(from: String(s.prefix(23)) + "Z") else { return nil }
            return (e, t)
        }
        let lifecycle = events.filter { ($0.action ?? "").hasPrefix("container-") }
        var checked = 0, right = 0
        for run in runs {
            let lo = run.from.addingTimeInterval(-0.01), hi = run.to.addingTimeInterval(0.01)
            let inside = timed.filter { $0.t >= lo && $0.t <= hi }.map(\.e)
            XCTAssertGreaterThanOrEqual(inside.count, 3, run.id, file: file, line: line)
            for e in inside {
                checked += 1
                if e.containerID == run.id && e.runtime == runtime { right += 1 } else { XCTFail("\(run.id): \(e)", file: file, line: line) }
            }
            let starts = lifecycle.filter { $0.action == "container-start" && $0.containerID == run.id }
            let exits = lifecycle.filter { $0.action == "container-exit" && $0.containerID == run.id }
            XCTAssertEqual(starts.count, 1, run.id, file: file, line: line)
            XCTAssertEqual(exits.count, 1, run.id, file: file, line: line)
            XCTAssertGreaterThan(exits.first?.int("boxwatch.lifetime_ms") ?? 0, 0, run.id, file: file, line: line)
        }
        return (checked, right)
    }

    /// The pid namespace inode of this (host) process.
    static func hostPidNamespace() -> Int {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        return Int(link.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }) ?? -1
    }
}

/// A running `boxwatch tail --json`, its output collected in a file.
final class TailRun {
    let pid: pid_t
    let outPath: String
    let errPath: String
    private var exited = false

    init(_ extra: [String] = []) throws {
        let dir = NSTemporaryDirectory() + "boxwatch-live-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        outPath = dir + "/out.jsonl"
        errPath = dir + "/err.txt"
        pid = try Live.spawn(Live.binary, ["tail", "--json"] + extra, stdout: outPath, stderr: errPath)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if stderrText.contains("attached") { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
            usleep(50_000)
        }
        let err = stderrText
        if !exited { kill(pid, SIGKILL); waitpid(pid, nil, 0) }
        throw Live.Unavailable(description: "boxwatch tail did not attach: \(err)")
    }

    deinit {
        if !exited { kill(pid, SIGKILL); waitpid(pid, nil, 0) }
        try? FileManager.default.removeItem(atPath: (outPath as NSString).deletingLastPathComponent)
    }

    var stderrText: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// SIGINT, wait for a clean exit, then every event it printed.
    func stop(settle: Double = 0.4) throws -> [ECSEvent] {
        usleep(UInt32(settle * 1_000_000))  // the reader polls every 50 ms
        kill(pid, SIGINT)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
            usleep(20_000)
        }
        if !exited {
            XCTFail("boxwatch tail did not stop on SIGINT within 15 s")
            kill(pid, SIGKILL); waitpid(pid, &status, 0); exited = true
        }
        XCTAssertEqual(status, 0, "tail exit status; stderr: \(stderrText)")
        let text = try String(contentsOfFile: outPath, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw Live.Unavailable(description: "not a JSON object: \(line)")
            }
            return ECSEvent(obj)
        }
    }
}

/// Read access to one ECS JSON line.
struct ECSEvent: CustomStringConvertible {
    let json: [String: Any]
    init(_ json: [String: Any]) { self.json = json }

    func value(_ path: String) -> Any? {
        var cur: Any? = json
        for key in path.split(separator: ".") { cur = (cur as? [String: Any])?[String(key)] }
        return cur
    }
    func string(_ path: String) -> String? { value(path) as? String }
    func int(_ path: String) -> Int? { value(path) as? Int }

    var action: String? { string("event.action") }
    var outcome: String? { string("event.outcome") }
    var pid: Int? { int("process.pid") }
    var comm: String? { string("process.name") }
    var executable: String? { string("process.executable") }
    var args: [String]? { value("process.args") as? [String] }
    var filePath: String? { string("file.path") }
    var containerID: String? { string("container.id") }
    var runtime: String? { string("container.runtime") }
    var pidNamespace: Int? { int("boxwatch.pidns") }
    var description: String {
        (try? String(decoding: JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)) ?? "?"
    }
}

extension Array where Element == ECSEvent {
    func of(pid: Int32) -> [ECSEvent] { filter { $0.pid == Int(pid) } }
    func actions(_ a: String) -> [ECSEvent] { filter { $0.action == a } }
}

/// A live test that makes cgroup2 directories and temporary files: the
/// sensor and cgroup2 must be there, and whatever a test makes is removed
/// after it (in reverse order).
class CgroupLiveTestCase: XCTestCase {
    static let unified = "/sys/fs/cgroup/unified"
    var cleanup: [() -> Void] = []

    override func setUpWithError() throws {
        try Live.requireSensor()
        if !FileManager.default.fileExists(atPath: Self.unified + "/cgroup.procs") {
            try Live.unavailable("needs cgroup2 at \(Self.unified)")
        }
    }

    override func tearDown() {
        cleanup.reversed().forEach { $0() }
        cleanup = []
    }

    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "bw-live-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup.append { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }
}
