import XCTest
@testable import BoxwatchCore

final class LifecycleTests: XCTestCase {
    let id = CgroupPathTests.id

    func run(_ records: [[UInt8]]) -> (lines: [String], pipeline: Pipeline) {
        let p = Pipeline(formatter: TextFormatter(color: false), clock: WallClock(offsetNanos: 0))
        var out = ""
        for r in records { r.withUnsafeBytes { _ = p.handle($0, into: &out) } }
        return (out.split(separator: "\n").map(String.init), p)
    }

    func cg(_ created: Bool, _ cgid: UInt64, _ path: String, at ts: UInt64) -> [UInt8] {
        var h = RecordBuilder.Header(); h.ts = ts
        return RecordBuilder.cgroup(h, created: created, id: cgid, path: path, level: 2)
    }

    func open(in cgid: UInt64, at ts: UInt64) -> [UInt8] {
        var h = RecordBuilder.Header(); h.ts = ts; h.cgroup = cgid
        return RecordBuilder.open(h, path: "/etc/passwd", ret: 3)
    }

    func testStartAndExitWithLifetimeAndCounts() {
        let (lines, p) = run([
            cg(true, 50, "/docker/\(id)", at: 1_000_000_000),
            open(in: 50, at: 1_100_000_000),
            open(in: 50, at: 1_200_000_000),
            cg(false, 50, "/docker/\(id)", at: 1_250_000_000),
        ])
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines[0].hasSuffix("container start docker \(id) cgroup /docker/\(id) by cat[4242]"), lines[0])
        XCTAssertTrue(lines[3].hasSuffix("container exit docker \(id) after 250 ms, exec=0 open=2 connect=0"), lines[3])
        let s = p.table.registry.containers[ContainerID(id)]
        XCTAssertEqual(s?.lifetimeMillis, 250)
        XCTAssertEqual(s?.firstSeen, 1_100_000_000)
    }

    /// CRI-O's workload sub-cgroup: one container, one start; it exits when
    /// its last cgroup goes.
    func testSubCgroupsMakeOneContainer() {
        let scope = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0123abcd_4567_89ab_cdef_0123456789ab.slice/crio-\(id).scope"
        let (lines, _) = run([
            cg(true, 60, scope, at: 1_000_000_000),
            cg(true, 61, scope + "/container", at: 1_000_100_000),
            cg(false, 61, scope + "/container", at: 2_000_000_000),
            cg(false, 60, scope, at: 2_000_400_000),  // 1000.4 ms after the scope was made
        ])
        XCTAssertEqual(lines.filter { $0.contains("container start") }.count, 1)
        XCTAssertEqual(lines.filter { $0.contains("container exit") }.count, 1)
        XCTAssertTrue(lines.last?.contains("exit cri-o \(id) after 1000 ms") == true, lines.joined(separator: "\n"))
    }

    func testHostCgroupsAreNotContainers() {
        let (lines, p) = run([cg(true, 70, "/system.slice/ssh.service", at: 1), cg(false, 70, "/system.slice/ssh.service", at: 2)])
        XCTAssertTrue(lines.isEmpty)
        XCTAssertTrue(p.table.registry.containers.isEmpty)
    }

    /// A container running before the sensor started has no creation time:
    /// it is listed from its first event, with no lifetime.
    func testContainerSeenOnlyByItsEvents() {
        let t = ContainerTable()
        t.learn(CgroupID(80), path: "/docker/\(id)")
        let p = Pipeline(table: t, formatter: TextFormatter(color: false), clock: WallClock(offsetNanos: 0))
        var out = ""
        open(in: 80, at: 5).withUnsafeBytes { _ = p.handle($0, into: &out) }
        cg(false, 80, "/docker/\(id)", at: 9).withUnsafeBytes { _ = p.handle($0, into: &out) }
        let s = p.table.registry.containers[ContainerID(id)]
        XCTAssertNil(s?.created)
        XCTAssertEqual(s?.removed, 9)
        XCTAssertNil(s?.lifetimeMillis)
        XCTAssertTrue(out.contains("container exit docker \(id), exec=0 open=1 connect=0"), out)
    }

    func testFilterKeepsOrHidesLifecycle() {
        var f = EventFilter()
        let change = LifecycleChange.started(ContainerState(info: CgroupPath.attribute(path: "/docker/\(id)").container!), at: 1)
        XCTAssertTrue(f.accepts(change))
        f.lifecycle = false
        XCTAssertFalse(f.accepts(change))
        f = EventFilter(); f.containers = ["host"]
        XCTAssertFalse(f.accepts(change))
        f = EventFilter(); f.containers = [String(id.prefix(8))]
        XCTAssertTrue(f.accepts(change))
    }

    /// Metadata joins later events of the container, live and from a dump's
    /// metadata block at the same place; events before it carry the ID only.
    func testMetadataJoinsFromItsPlaceInTheStream() throws {
        let m = ContainerMetadata(name: "web", image: "nginx:1.27", labels: ["team": "red", "a\"b": "x"])
        var bytes = DumpEncoder.preamble() + DumpEncoder.header(DumpHeader())
        for r in [cg(true, 50, "/docker/\(id)", at: 1), open(in: 50, at: 2)] { r.withUnsafeBytes { bytes += DumpEncoder.record(arrivalUnixNanos: 0, $0) } }
        bytes += DumpEncoder.metadata(ContainerID(id), m)
        open(in: 50, at: 3).withUnsafeBytes { bytes += DumpEncoder.record(arrivalUnixNanos: 0, $0) }
        var parser = DumpParser()
        parser.feed(bytes)
        let replay = Replay(pipeline: Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0)))
        var out = "", log = ""
        while let b = try parser.next() {
            if case .metadata(let i, let got) = b { XCTAssertEqual(i, ContainerID(id)); XCTAssertEqual(got, m) }
            replay.apply(b, out: &out, log: &log)
        }
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)  // start, open, open
        XCTAssertFalse(lines[1].contains("\"name\":\"web\""))
        XCTAssertTrue(lines[2].contains("\"container\":{\"id\":\"\(id)\",\"runtime\":\"docker\",\"name\":\"web\",\"image\":{\"name\":\"nginx:1.27\"},\"labels\":{\"a\\\"b\":\"x\",\"team\":\"red\"}}"), String(lines[2]))
        XCTAssertEqual(replay.pipeline.table.registry.containers[ContainerID(id)]?.info.metadata, m)
    }
}

extension LifecycleTests {
    /// The chain that launched a container: the process that made its cgroup,
    /// then that process's parents as execs (or the start-up snapshot) named them.
    func testLaunchedBy() {
        func exec(pid: UInt32, ppid: UInt32, comm: String) -> [UInt8] {
            var h = RecordBuilder.Header(); h.pid = pid; h.tid = pid; h.ppid = ppid; h.comm = comm
            return RecordBuilder.exec(h, filename: "/usr/bin/" + comm, argv: [comm])
        }
        var mk = RecordBuilder.Header(); mk.pid = 300; mk.tid = 300; mk.ppid = 200; mk.comm = "runc"
        let (lines, p) = run([
            exec(pid: 100, ppid: 1, comm: "bash"),
            exec(pid: 200, ppid: 100, comm: "podman"),
            RecordBuilder.cgroup(mk, created: true, id: 90, path: "/libpod_parent/libpod-\(id)", level: 2),
        ])
        XCTAssertEqual(p.table.registry.containers[ContainerID(id)]?.launchedBy, ["runc[300]", "podman[200]", "bash[100]"])
        XCTAssertTrue(lines.last?.hasSuffix("by runc[300] < podman[200] < bash[100]") == true, lines.last ?? "")
    }

    /// A fork without exec (conmon's child that runs runc) still links the chain.
    func testLaunchedByThroughAForkWithoutExec() {
        var parent = RecordBuilder.Header(); parent.pid = 500; parent.tid = 500; parent.ppid = 1; parent.comm = "conmon"
        var mk = RecordBuilder.Header(); mk.pid = 600; mk.tid = 600; mk.ppid = 550; mk.comm = "runc"
        var forker = RecordBuilder.Header(); forker.pid = 550; forker.tid = 550; forker.ppid = 500; forker.comm = "conmon"
        let (_, p) = run([
            RecordBuilder.exec(parent, filename: "/usr/bin/conmon", argv: ["conmon"]),
            RecordBuilder.fork(parent, child: 550),
            RecordBuilder.fork(forker, child: 600),
            RecordBuilder.cgroup(mk, created: true, id: 91, path: "/libpod_parent/libpod-\(id)", level: 2),
        ])
        XCTAssertEqual(p.table.registry.containers[ContainerID(id)]?.launchedBy, ["runc[600]", "conmon[550]", "conmon[500]"])
        let e = try? RecordDecoder.decode(RecordBuilder.fork(parent, child: 550))
        XCTAssertEqual(e?.detail, .fork(childPid: 550))
        XCTAssertEqual(e?.header.cgroupName.absent, true)
    }

    /// Podman (cgroupfs) makes /libpod_parent first, then the container's cgroup.
    func testPodmanStartAndExit() {
        let (lines, _) = run([
            cg(true, 80775, "/libpod_parent", at: 1_000_000_000),
            cg(true, 80794, "/libpod_parent/libpod-\(id)", at: 1_000_100_000),
            cg(false, 80794, "/libpod_parent/libpod-\(id)", at: 1_100_100_000),
        ])
        XCTAssertEqual(lines.count, 2, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.last?.contains("container exit podman \(id) after 100 ms") == true, lines.joined(separator: "\n"))
    }
}
