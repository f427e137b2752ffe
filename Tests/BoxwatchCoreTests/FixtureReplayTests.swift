import Foundation
import XCTest
@testable import BoxwatchCore

/// Replays the dumps scripts/record-fixtures.sh recorded from real workloads
/// (no root, no kernel needed) and checks what those workloads are known to
/// have done, as the script lists it.
final class FixtureReplayTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Replayed {
        var events: [[String: Any]]
        var replay: Replay
    }

    func replay(_ name: String) throws -> Replayed {
        let bytes = try [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
        var parser = DumpParser()
        parser.feed(bytes)
        let pipeline = Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0))
        var f = EventFilter()
        f.kinds = Set(EventKind.allCases)
        pipeline.filter = f
        let replay = Replay(pipeline: pipeline)
        var out = "", log = ""
        while let block = try parser.next() { replay.apply(block, out: &out, log: &log) }
        try parser.finish()
        XCTAssertEqual(replay.pipeline.undecodable, 0)
        XCTAssertNotNil(replay.stopUnixNanos, "the capture ended cleanly")
        let events = try out.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        return Replayed(events: events, replay: replay)
    }

    func value(_ e: [String: Any], _ path: String) -> Any? {
        var cur: Any? = e
        for k in path.split(separator: ".") { cur = (cur as? [String: Any])?[String(k)] }
        return cur
    }

    func testHostWorkload() throws {
        let r = try replay("host.bwdump")
        let e = r.events
        func only(_ what: String, _ pred: ([String: Any]) -> Bool) -> [String: Any]? {
            let hits = e.filter(pred)
            XCTAssertEqual(hits.count, 1, what)
            return hits.first
        }
        let cat = only("exec /bin/cat /etc/hostname") { value($0, "process.executable") as? String == "/bin/cat"
            && value($0, "process.args") as? [String] == ["/bin/cat", "/etc/hostname"] }
        XCTAssertEqual(cat.flatMap { value($0, "event.outcome") as? String }, "success")
        let catPid = cat.flatMap { value($0, "process.pid") as? Int }
        let open = only("cat opens /etc/hostname") { value($0, "file.path") as? String == "/etc/hostname" && value($0, "process.pid") as? Int == catPid }
        XCTAssertEqual(open.flatMap { value($0, "boxwatch.ret") as? Int }, 3)

        let rel = only("cwd-relative ./hostname") { value($0, "file.path") as? String == "./hostname" }
        XCTAssertEqual(rel.flatMap { value($0, "boxwatch.dirfd") as? Int }, -100)
        let dirfd = only("dirfd-relative hostname") { value($0, "file.path") as? String == "hostname" }
        XCTAssertNotEqual(dirfd.flatMap { value($0, "boxwatch.dirfd") as? Int }, -100)
        XCTAssertEqual(dirfd.flatMap { value($0, "event.outcome") as? String }, "success")

        let connect = only("refused connect") { value($0, "event.action") as? String == "connect" }
        XCTAssertEqual(connect.flatMap { value($0, "destination.ip") as? String }, "127.0.0.1")
        XCTAssertEqual(connect.flatMap { value($0, "destination.port") as? Int }, 9)
        XCTAssertEqual(connect.flatMap { value($0, "boxwatch.errno_name") as? String }, "ECONNREFUSED")

        let failed = only("failed exec") { value($0, "process.executable") as? String == "/nonexistent/boxwatch-fixture" }
        XCTAssertEqual(failed.flatMap { value($0, "event.outcome") as? String }, "failure")
        XCTAssertEqual(failed.flatMap { value($0, "boxwatch.errno") as? Int }, 2)

        // the workload ran in /boxwatch-fixture/host: host, not a container
        for ev in e where value(ev, "event.action") as? String != "cgroup_mkdir" && value(ev, "event.action") as? String != "cgroup_rmdir" {
            XCTAssertNil(ev["container"], "\(ev)")
        }
        XCTAssertEqual(r.replay.header?.wireVersion, 1)
    }

    func testDockerContainerIsAttributedAfterItsCgroupIsGone() throws {
        let r = try replay("docker.bwdump")
        let e = r.events
        let removed = e.filter { value($0, "event.action") as? String == "cgroup_rmdir" }
        XCTAssertEqual(removed.count, 1, "the container's cgroup was removed during the capture")
        let path = removed.first.flatMap { value($0, "boxwatch.cgroup_event_path") as? String } ?? ""
        XCTAssertTrue(path.hasPrefix("/boxwatch-fixture/docker/"), path)
        let id = String(path.dropFirst("/boxwatch-fixture/docker/".count))
        XCTAssertEqual(id.count, 64)

        let workload = e.filter { ["exec", "open", "connect"].contains(value($0, "event.action") as? String ?? "") }
        XCTAssertFalse(workload.isEmpty)
        for ev in workload {
            XCTAssertEqual(value(ev, "container.id") as? String, id, "\(ev)")
            XCTAssertEqual(value(ev, "container.runtime") as? String, "docker", "\(ev)")
        }
        let cat = workload.filter { value($0, "process.executable") as? String == "/bin/cat" }
        XCTAssertEqual(cat.count, 1)
        let catPid = cat.first.flatMap { value($0, "process.pid") as? Int }
        XCTAssertEqual(workload.filter { value($0, "process.pid") as? Int == catPid && value($0, "file.path") as? String == "/etc/passwd" }.count, 1)
        let connect = workload.filter { value($0, "event.action") as? String == "connect" }
        XCTAssertEqual(connect.count, 1)
        XCTAssertEqual(connect.first.flatMap { value($0, "destination.port") as? Int }, 1)
        XCTAssertEqual(connect.first.flatMap { value($0, "boxwatch.errno_name") as? String }, "ECONNREFUSED")
    }

    /// Two replays of one dump print the same bytes.
    func testReplayIsDeterministic() throws {
        let a = try replay("docker.bwdump").events.map { try JSONSerialization.data(withJSONObject: $0, options: .sortedKeys) }
        let b = try replay("docker.bwdump").events.map { try JSONSerialization.data(withJSONObject: $0, options: .sortedKeys) }
        XCTAssertEqual(a, b)
    }
}
