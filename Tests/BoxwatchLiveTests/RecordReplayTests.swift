import Foundation
import XCTest

/// Capture to a dump and replay it through the same pipeline.
final class RecordReplayTests: XCTestCase {
    override func setUpWithError() throws {
        try Live.requireSensor()
    }

    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "bw-dump-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// What `tail --json --record` printed is what replaying its dump prints,
    /// byte for byte, and twice the same.
    func testReplayPrintsWhatTheTailPrinted() throws {
        let dir = try tempDir()
        let dump = dir + "/capture.bwdump"
        // every record kind shown, so a line per record (container lines are derived, not records)
        let every = ["--kind", "exec,open,connect,cgroup,fork"]
        let tail = try TailRun(every + ["--record", dump])
        try Live.run("/bin/cat", ["/etc/hostname"])
        try Live.run("/usr/bin/python3", ["-c", "import socket\ntry: socket.create_connection(('127.0.0.1', 9))\nexcept OSError: pass"])
        try Live.run("/bin/sh", ["-c", "cd /etc && exec /bin/cat ./hostname"])
        _ = try tail.stop()
        let live = try String(contentsOfFile: tail.outPath, encoding: .utf8)
        XCTAssertGreaterThan(live.split(separator: "\n").count, 10)
        let first = try Live.run(Live.binary, ["replay", "--json"] + every + [dump])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout, live)
        let second = try Live.run(Live.binary, ["replay", "--json"] + every + [dump])
        XCTAssertEqual(second.stdout, first.stdout)
        let info = try Live.run(Live.binary, ["replay", "--info", dump])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("records:      \(live.split(separator: "\n").count) ("), info.stdout)
        XCTAssertTrue(info.stdout.contains("lost:         0"), info.stdout)
    }

    /// kill -9 while recording: the dump replays up to its last whole block
    /// and the replay says it was cut short, with the offset.
    func testKilledRecorderLeavesAReadableDump() throws {
        let dir = try tempDir()
        let dump = dir + "/killed.bwdump"
        let pid = try Live.spawn(Live.binary, ["record", "--output", dump], stdout: dir + "/out", stderr: dir + "/err")
        XCTAssertTrue(Live.waitAttached(dir + "/err"))
        let flood = try Live.spawn("/usr/bin/python3", ["-c", "import os\nwhile True: os.close(os.open('/etc/hostname', os.O_RDONLY))"],
                                   stdout: "/dev/null", stderr: "/dev/null")
        usleep(600_000)
        kill(pid, SIGKILL)
        waitpid(pid, nil, 0)
        kill(flood, SIGKILL)
        waitpid(flood, nil, 0)
        let r = try Live.run(Live.binary, ["replay", "--json", "--kind", "exec,open,connect,cgroup,fork", dump])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("offset"), r.stderr)
        XCTAssertTrue(r.stderr.contains("cut short") || r.stderr.contains("ends mid-block"), r.stderr)
        let lines = r.stdout.split(separator: "\n").count
        XCTAssertGreaterThan(lines, 100)
        XCTAssertTrue(r.stderr.contains("replayed \(lines) records"), r.stderr)  // every whole record, printed
    }

    func testReplayBadInput() throws {
        let dir = try tempDir()
        let missing = try Live.run(Live.binary, ["replay", dir + "/nope.bwdump"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.bwdump"), missing.stderr)
        let none = try Live.run(Live.binary, ["replay"])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("which dump file"), none.stderr)
        try "not a dump\n".write(toFile: dir + "/text", atomically: true, encoding: .utf8)
        let text = try Live.run(Live.binary, ["replay", dir + "/text"])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.stderr.contains("offset 0: not a boxwatch dump"), text.stderr)
        let noOutput = try Live.run(Live.binary, ["record"])
        XCTAssertEqual(noOutput.status, 2)
        XCTAssertTrue(noOutput.stderr.contains("--output FILE is required"), noOutput.stderr)
    }

    /// A flood into a tiny ring: the replay reports the same losses, line for
    /// line, as the live tail did.
    func testReplayShowsTheLiveLosses() throws {
        let dir = try tempDir()
        let dump = dir + "/lossy.bwdump"
        let tail = try TailRun(["--kind", "open", "--ring-size", "8192", "--record", dump])
        try Live.run("/usr/bin/python3", ["-c", "import os\nfor _ in range(20000): os.close(os.open('/etc/hostname', os.O_RDONLY))"])
        usleep(1_200_000)
        let live = try tail.stop()
        let liveLoss = tail.stderrText.split(separator: "\n").filter { $0.contains("LOST") }
        XCTAssertFalse(liveLoss.isEmpty, tail.stderrText)
        let r = try Live.run(Live.binary, ["replay", "--json", "--kind", "open", dump])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.contains("LOST") }, liveLoss)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, live.count)
    }

    /// --max-size with --rotate: every file replays on its own, cleanly.
    func testRotatedFilesEachReplay() throws {
        let dir = try tempDir()
        let dump = dir + "/rot.bwdump"
        let pid = try Live.spawn(Live.binary, ["record", "--output", dump, "--max-size", "64K", "--rotate", "--kind", "open"],
                                 stdout: dir + "/out", stderr: dir + "/err")
        XCTAssertTrue(Live.waitAttached(dir + "/err"))
        try Live.run("/usr/bin/python3", ["-c", "import os\nfor _ in range(3000): os.close(os.open('/etc/hostname', os.O_RDONLY))"])
        usleep(300_000)
        kill(pid, SIGINT)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("rot.bwdump") }
        XCTAssertGreaterThanOrEqual(files.count, 2, "\(files)")
        var total = 0
        for f in files {
            let r = try Live.run(Live.binary, ["replay", "--json", "--kind", "open", dir + "/" + f])
            XCTAssertEqual(r.status, 0, "\(f): \(r.stderr)")
            total += r.stdout.split(separator: "\n").filter { $0.contains("\"path\":\"/etc/hostname\"") }.count
        }
        XCTAssertGreaterThanOrEqual(total, 3000)
    }

    func testReplayReportsAFailedWrite() throws {
        let fixture = Live.repoRoot.appendingPathComponent("Tests/Fixtures/docker.bwdump").path
        let r = try Live.run("/bin/sh", ["-c", "\"$0\" replay --json \"$1\" > /dev/full", Live.binary, fixture])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("writing the output failed"), r.stderr)
    }
}
