import Foundation
import XCTest

/// Overload: a 64 KiB ring and a consumer stopped (SIGSTOP) through a flood.
/// Nothing crashes, the kernel's counters balance (seen = delivered +
/// dropped), the in-band `lost` records add up to the drops and to the
/// per-CPU sequence gaps, and events after the flood still arrive.
final class LossAccountingTests: XCTestCase {
    override func setUpWithError() throws {
        try Live.requireSensor()
    }

    func testStoppedConsumerDuringAFloodIsAccountedExactly() throws {
        let run = try TailRun(["--ring-size", "64K", "--kind", "open"])
        XCTAssertEqual(kill(run.pid, SIGSTOP), 0)
        let n = 100_000
        let flood = try Live.run("/usr/bin/python3", ["-c",
            "import os\nfor i in range(\(n)):\n    os.close(os.open('/etc/hostname', os.O_RDONLY))"])
        XCTAssertEqual(flood.status, 0, flood.stderr)
        XCTAssertEqual(kill(run.pid, SIGCONT), 0)
        usleep(500_000)
        let marker = try Live.run("/bin/cat", ["/etc/hostname"])
        let events = try run.stop()

        let lost = events.filter { $0.action == "lost" }
        let inBand = lost.reduce(0) { $0 + ($1.int("boxwatch.lost.total") ?? 0) }
        XCTAssertFalse(lost.isEmpty, "a 64 KiB ring cannot hold \(n) opens: some must be lost and said so")
        for l in lost {
            let total = l.int("boxwatch.lost.total") ?? -1
            let parts = ["exec", "open", "connect", "cgroup_mkdir", "cgroup_rmdir", "fork"].reduce(0) { $0 + (l.int("boxwatch.lost." + $1) ?? 0) }
            XCTAssertEqual(total, parts, "a lost record's total is the sum of its kinds")
            XCTAssertNotNil(l.string("boxwatch.lost.window_start"))
        }

        // "boxwatch: accounting: seen S = delivered D + dropped X; sequence gaps G = dropped (exact)"
        let err = run.stderrText
        guard let line = err.split(separator: "\n").first(where: { $0.contains("accounting:") }) else {
            return XCTFail("no accounting line; stderr: \(err)")
        }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        XCTAssertEqual(numbers.count, 4, String(line))
        let (seen, delivered, dropped, gaps) = (numbers[0], numbers[1], numbers[2], numbers[3])
        XCTAssertTrue(line.hasSuffix("(exact)"), String(line))
        XCTAssertEqual(seen, delivered + dropped)
        XCTAssertEqual(gaps, dropped, "sequence gaps are the drops")
        XCTAssertEqual(inBand, dropped, "the lost records add up to every drop")
        XCTAssertGreaterThan(dropped, 0)

        let shown = events.of(pid: flood.pid).actions("open").filter { $0.string("file.path") == "/etc/hostname" }.count
        XCTAssertLessThanOrEqual(shown, n)
        XCTAssertGreaterThanOrEqual(shown + dropped, n, "every flood open is either shown or counted lost")
        XCTAssertEqual(events.of(pid: marker.pid).actions("open").filter { $0.string("file.path") == "/etc/hostname" }.count, 1,
                       "after the overload events still arrive")
        print("overload: \(n) opens with the consumer stopped: shown \(shown), lost \(dropped) in \(lost.count) lost records, "
              + "seen \(seen) = delivered \(delivered) + dropped \(dropped), sequence gaps \(gaps)")
    }
}
