import Foundation
import XCTest

/// The command line as a user meets it: bad input, missing prerequisites,
/// load failures, stopping, the text tail and the loss summary.
final class CommandLineTests: XCTestCase {
    override func setUpWithError() throws {
        try Live.requireSensor()
    }

    func boxwatch(_ args: [String]) throws -> Live.Result {
        try Live.run(Live.binary, args)
    }

    func testBadArgumentsNameTheOptionAndExit2() throws {
        let cases: [([String], String)] = [
            (["tail", "--bogus"], "unknown option '--bogus'"),
            (["tail", "--ring-size", "1000"], "--ring-size '1000' must be a power of two"),
            (["tail", "--ring-size", "lots"], "--ring-size: 'lots' is not a size"),
            (["tail", "--kind", "nope"], "--kind 'nope' is not one of"),
            (["tail", "--duration", "-1"], "--duration '-1' is not a positive number"),
            (["tail", "--pid", "abc"], "--pid 'abc' is not a process id"),
            (["tail", "--color", "purple"], "--color 'purple'"),
            (["tail", "--json", "extra"], "unexpected argument 'extra'"),
            (["tail", "--duration"], "--duration needs a value"),
            (["frobnicate"], "unknown command 'frobnicate'"),
        ]
        for (args, message) in cases {
            let r = try boxwatch(args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertTrue(r.stdout.isEmpty, "\(args)")
        }
    }

    func testMissingOrForeignObjectFile() throws {
        let missing = try boxwatch(["tail", "--bpf-object", "/nonexistent/boxwatch.bpf.o"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/boxwatch.bpf.o: no readable file there"), missing.stderr)
        let foreign = try boxwatch(["tail", "--bpf-object", "/etc/hostname"])
        XCTAssertEqual(foreign.status, 1)
        XCTAssertTrue(foreign.stderr.contains("bpf_object__open_file failed for /etc/hostname"), foreign.stderr)
    }

    func testVerifierRejectionShowsTheVerifiersWords() throws {
        let object = Live.repoRoot.appendingPathComponent("build/bpf/selftest-reject.bpf.o").path
        guard FileManager.default.fileExists(atPath: object) else {
            try Live.unavailable("needs \(object) (make -C bpf selftest)")
        }
        let r = try boxwatch(["tail", "--bpf-object", object])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("the kernel refused to load the BPF programs"), r.stderr)
        XCTAssertTrue(r.stderr.contains("invalid unbounded variable-offset read from stack"), r.stderr)
        XCTAssertTrue(r.stderr.contains("bw_selftest_reject"), r.stderr)
    }

    func testNotRootIsExplained() throws {
        let r = try Live.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Live.binary, "tail"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("must run as root"), r.stderr)
        XCTAssertTrue(r.stderr.contains("fix:"), r.stderr)
    }

    func testMissingTracefsIsExplained() throws {
        // a private mount namespace: the host's tracefs mount is untouched
        let r = try Live.run("/usr/bin/unshare", ["-m", "/bin/sh", "-c",
            "umount -l /sys/kernel/tracing; umount -l /sys/kernel/debug 2>/dev/null; exec \"$0\" tail", Live.binary])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("tracefs is not mounted"), r.stderr)
        XCTAssertTrue(r.stderr.contains("mount -t tracefs tracefs /sys/kernel/tracing"), r.stderr)
    }

    func testDurationStopsCleanly() throws {
        let start = Date()
        let r = try boxwatch(["tail", "--json", "--kind", "exec", "--duration", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    /// Names of attached boxwatch programs (bpftool), to see that a stop detaches.
    func attachedPrograms() throws -> Int {
        let r = try Live.run("/usr/sbin/bpftool", ["prog", "show"])
        return r.stdout.split(separator: "\n").filter { $0.contains(" name bw_") }.count
    }

    func testSIGTERMDetachesAndExits0() throws {
        let before = try attachedPrograms()
        let tail = try TailRun(["--kind", "exec"])
        XCTAssertGreaterThan(try attachedPrograms(), before)
        kill(tail.pid, SIGTERM)
        _ = try tail.stop(settle: 0)  // waits for the exit; status must be 0
        XCTAssertEqual(try attachedPrograms(), before, "programs still loaded after SIGTERM")
    }

    /// `boxwatch tail | true`: the reader is gone before any event; tail notices and exits 0.
    func testClosedPipeEndsTheTail() throws {
        let start = Date()
        let r = try Live.run("/bin/bash", ["-c",
            "timeout 20 \"$0\" tail --pid 1 --kind connect | true; echo ${PIPESTATUS[0]}", Live.binary])
        XCTAssertEqual(r.stdout, "0\n", r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testTextTailColumns() throws {
        let dir = NSTemporaryDirectory() + "bw-text-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid = try Live.spawn(Live.binary, ["tail", "--kind", "exec", "--duration", "3"], stdout: dir + "/out", stderr: dir + "/err")
        XCTAssertTrue(Live.waitAttached(dir + "/err"))
        let t = try Live.run("/bin/true", ["a b"])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0)
        let out = try String(contentsOfFile: dir + "/out", encoding: .utf8)
        XCTAssertFalse(out.contains("\u{1b}["), "no colour when stdout is not a terminal")
        let line = out.split(separator: "\n").first { $0.contains(" \(t.pid) ") && $0.contains("/bin/true") }
        XCTAssertNotNil(line, out)
        // time, container, pid, comm, kind, detail -> result
        let pattern = #"^\d\d:\d\d:\d\d\.\d{6} host +\#(t.pid) +true +exec +/bin/true \[/bin/true 'a b'\] -> ok$"#
        XCTAssertNotNil(line.flatMap { $0.range(of: pattern, options: .regularExpression) }, String(line ?? ""))
    }

    /// A tiny ring and a flood: the loss is reported, the tail survives.
    func testDropsAreReportedOnStderr() throws {
        let tail = try TailRun(["--kind", "open", "--ring-size", "4096"])
        let r = try Live.run("/usr/bin/python3", ["-c", """
            import os
            for _ in range(20000):
                os.close(os.open("/etc/hostname", os.O_RDONLY))
            """])
        XCTAssertEqual(r.status, 0)
        usleep(1_500_000)  // the summary is once a second
        let events = try tail.stop()
        let seen = events.of(pid: r.pid).filter { $0.filePath == "/etc/hostname" }.count
        XCTAssertLessThan(seen, 20000)
        let err = tail.stderrText
        XCTAssertTrue(err.contains("LOST"), err)
        // every open was either shown or counted as lost (the lost count also
        // holds other processes' opens, so shown + lost is at least 20000)
        let lost = err.split(separator: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "open=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        XCTAssertGreaterThanOrEqual(seen + lost, 20000, err)
    }
}
