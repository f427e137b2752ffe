import Foundation
import XCTest

/// Real Docker containers (dockerd started and stopped by the test).
final class DockerTests: XCTestCase {
    static let envScript = Live.repoRoot.appendingPathComponent("scripts/docker-env.sh").path

    override class func setUp() {
        super.setUp()
        if geteuid() == 0 { _ = try? Live.run(envScript, ["up"]) }
    }

    override class func tearDown() {
        if geteuid() == 0 { _ = try? Live.run(envScript, ["down"]) }
        super.tearDown()
    }

    override func setUpWithError() throws {
        try Live.requireSensor()
        let info = try Live.run("/bin/sh", ["-c", "docker info --format '{{.CgroupDriver}}'"])
        if info.status != 0 { try Live.unavailable("Docker is not running (scripts/docker-env.sh up): \(info.stderr)") }
    }

    /// Containers' processes are found through Docker itself (the host pid of
    /// each container's init, from `docker inspect`): that pid and its
    /// children are the container's processes, whatever boxwatch says.
    func testEveryContainerEventCarriesItsFullID() throws {
        let tail = try TailRun()
        var containers: [(cid: String, initPid: Int, port: Int)] = []
        for port in [11, 12, 13] {
            let run = try Live.run("/usr/bin/env", ["docker", "run", "-d", "--rm", "--network=none",
                "boxwatch-test:latest", "sh", "-c",
                "sleep 1; /bin/cat /etc/passwd >/dev/null; nc -w1 127.0.0.1 \(port) </dev/null; true"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let cid = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let inspect = try Live.run("/usr/bin/env", ["docker", "inspect", "-f", "{{.State.Pid}}", cid])
            let pid = Int(inspect.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            XCTAssertGreaterThan(pid, 0, "docker inspect: \(inspect.stdout) \(inspect.stderr)")
            containers.append((cid, pid, port))
        }
        for c in containers {  // --rm: gone once it exits
            _ = try Live.run("/usr/bin/env", ["docker", "wait", c.cid])
        }
        let host = try Live.run("/bin/cat", ["/etc/hostname"])
        let events = try tail.stop()

        var checked = 0
        for c in containers {
            XCTAssertEqual(c.cid.count, 64)
            let mine = events.filter { $0.pid == c.initPid || $0.int("process.parent.pid") == c.initPid }
            XCTAssertGreaterThanOrEqual(mine.count, 3, "container \(c.cid)")
            for e in mine {
                XCTAssertEqual(e.containerID, c.cid, "\(e)")
                XCTAssertEqual(e.runtime, "docker", "\(e)")
                checked += 1
            }
            let cat = mine.filter { $0.action == "exec" && $0.executable == "/bin/cat" }
            XCTAssertEqual(cat.count, 1)
            let catPid = cat.first?.pid ?? -1
            XCTAssertEqual(mine.filter { $0.pid == catPid && $0.action == "open" && $0.filePath == "/etc/passwd" }.count, 1)
            let connects = mine.actions("connect")
            XCTAssertEqual(connects.count, 1, "\(connects)")
            XCTAssertEqual(connects.first?.string("destination.ip"), "127.0.0.1")
            XCTAssertEqual(connects.first?.int("destination.port"), c.port)
            XCTAssertEqual(connects.first?.outcome, "failure")
            XCTAssertEqual(connects.first?.int("boxwatch.errno"), 111)
            // nothing outside the container (but runc setting it up) is attributed to it
            for e in events where e.containerID == c.cid && !(e.action ?? "").hasPrefix("container-") {
                XCTAssertTrue(e.pid == c.initPid || e.int("process.parent.pid") == c.initPid
                              || (e.comm ?? "").hasPrefix("runc"), "\(e)")
            }
        }
        print("docker: \(checked) container events checked, all with the full 64-hex ID")
        // host activity in the same window carries no container ID
        let hostEvents = events.of(pid: host.pid)
        XCTAssertFalse(hostEvents.isEmpty)
        for e in hostEvents {
            XCTAssertNil(e.containerID, "\(e)")
            XCTAssertEqual(e.string("boxwatch.attribution"), "host")
        }
    }
}

extension DockerTests {
    /// `boxwatch containers`: the containers seen during the watch, with
    /// state, lifetime, counts and Docker's name.
    func testContainersListing() throws {
        let dir = NSTemporaryDirectory() + "bw-list-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid = try Live.spawn(Live.binary, ["containers", "--json", "--duration", "6"], stdout: dir + "/out", stderr: dir + "/err")
        XCTAssertTrue(Live.waitAttached(dir + "/err"))
        let name = "bw-list-\(getpid())"
        let r = try Live.run("/usr/bin/env", ["docker", "run", "--rm", "--name", name, "--network=none", "boxwatch-test:latest",
                                              "sh", "-c", "sleep 1; /bin/cat /etc/hostname"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0)
        let lines = try String(contentsOfFile: dir + "/out", encoding: .utf8).split(separator: "\n")
        let mine = try lines.map { ECSEvent(try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]) }
            .filter { $0.string("container.name") == name }
        XCTAssertEqual(mine.count, 1, "\(lines)")
        XCTAssertEqual(mine.first?.string("boxwatch.state"), "exited")
        XCTAssertGreaterThan(mine.first?.int("boxwatch.lifetime_ms") ?? 0, 900)
        XCTAssertGreaterThanOrEqual(mine.first?.int("boxwatch.events.exec") ?? 0, 2)
        XCTAssertEqual(mine.first?.string("container.image.name"), "boxwatch-test:latest")
    }

    /// Docker's own description (name, image, labels) joins the events of a
    /// container that runs for a second, looked up off the event path.
    func testDockerMetadataJoinsTheEvents() throws {
        let name = "bw-meta-\(getpid())"
        let tail = try TailRun()
        let r = try Live.run("/usr/bin/env", ["docker", "run", "--rm", "--name", name, "--label", "team=red", "--network=none",
                                              "boxwatch-test:latest", "sh", "-c", "sleep 1; /bin/cat /etc/hostname"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let events = try tail.stop()
        let late = events.filter { $0.action == "open" && $0.filePath == "/etc/hostname" && $0.string("container.name") != nil }
        XCTAssertEqual(late.count, 1, "the cat a second after start carries the metadata")
        XCTAssertEqual(late.first?.string("container.name"), name)
        XCTAssertEqual(late.first?.string("container.image.name"), "boxwatch-test:latest")
        XCTAssertEqual(late.first?.string("container.labels.team"), "red")
        let exit = events.filter { $0.action == "container-exit" && $0.containerID == late.first?.containerID }
        XCTAssertEqual(exit.first?.string("container.name"), name)
    }
}

/// Many short `docker run --rm` containers in a row (BOXWATCH_DOCKER_LOOP, 40
/// by default; the acceptance run uses 300): every event from inside each one
/// carries its full ID, and each has one start and one exit line with a
/// lifetime. A container's events are found without boxwatch's help: the
/// processes outside the host's pid namespace during that container's
/// `docker run` (they run one at a time).
final class DockerLoopTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        if geteuid() == 0 { _ = try? Live.run(DockerTests.envScript, ["up"]) }
    }

    override class func tearDown() {
        if geteuid() == 0 { _ = try? Live.run(DockerTests.envScript, ["down"]) }
        super.tearDown()
    }

    func testShortContainersAreAllAttributed() throws {
        try Live.requireSensor()
        let n = Int(ProcessInfo.processInfo.environment["BOXWATCH_DOCKER_LOOP"] ?? "") ?? 40
        let dir = NSTemporaryDirectory() + "bw-loop-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tail = try TailRun()
        var runs: [(cid: String, from: Date, to: Date)] = []
        for i in 0..<n {
            let cidfile = dir + "/cid\(i)"
            let from = Date()
            let r = try Live.run("/usr/bin/env", ["docker", "run", "--rm", "--network=none", "--cidfile", cidfile,
                "boxwatch-test:latest", "sh", "-c", "/bin/cat /etc/hostname >/dev/null; nc -w1 127.0.0.1 1 </dev/null; true"])
            let to = Date()
            XCTAssertEqual(r.status, 0, r.stderr)
            runs.append((try String(contentsOfFile: cidfile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), from, to))
        }
        let events = try tail.stop(settle: 1)
        let (checked, right) = Live.checkContainerRuns(events, runs.map { ($0.cid, $0.from, $0.to) }, runtime: "docker")
        print("docker loop: \(n) containers, \(right) of \(checked) container events carry the right ID")
        XCTAssertEqual(right, checked)
    }
}
