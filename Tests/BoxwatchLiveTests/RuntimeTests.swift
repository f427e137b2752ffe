import Foundation
import XCTest

/// Podman (with runc) and containerd's ctr, from scripts/runtimes-env.sh,
/// and runc containers placed at Kubernetes-, CRI-O- and systemd-shaped
/// cgroup paths (ctr --cgroup).
final class RuntimeTests: XCTestCase {
    nonisolated(unsafe) static var env: [String: String] = [:]
    static let script = Live.repoRoot.appendingPathComponent("scripts/runtimes-env.sh").path

    override class func setUp() {
        super.setUp()
        guard geteuid() == 0, let r = try? Live.run(script, ["up"]), r.status == 0 else { return }
        for line in r.stdout.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { env[String(kv[0])] = String(kv[1]) }
        }
    }

    override class func tearDown() {
        if geteuid() == 0 { _ = try? Live.run(script, ["down"]) }
        super.tearDown()
    }

    override func setUpWithError() throws {
        try Live.requireSensor()
        if Self.env["CTR_ADDRESS"] == nil { try Live.unavailable("podman and containerd did not come up (scripts/runtimes-env.sh up)") }
    }

    var loops: Int { Int(ProcessInfo.processInfo.environment["BOXWATCH_RUNTIME_LOOP"] ?? "") ?? 50 }
    let workload = "/bin/cat /etc/hostname >/dev/null; nc -w1 127.0.0.1 1 </dev/null; true"

    func ctr(_ args: [String]) throws -> Live.Result {
        try Live.run("/usr/bin/ctr", ["--address", Self.env["CTR_ADDRESS"]!, "-n", "default"] + args)
    }

    func testPodmanContainersAreAttributed() throws {
        let dir = NSTemporaryDirectory() + "bw-podman-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tail = try TailRun()
        var runs: [(id: String, from: Date, to: Date)] = []
        for i in 0..<loops {
            let cidfile = dir + "/cid\(i)"
            let from = Date()
            let r = try Live.run("/usr/bin/env", ["CONTAINERS_CONF=" + Self.env["CONTAINERS_CONF"]!, "podman", "run", "--rm",
                "--network=none", "--cidfile", cidfile, "localhost/boxwatch-test:latest", "sh", "-c", workload])
            runs.append(((try? String(contentsOfFile: cidfile, encoding: .utf8)) ?? "", from, Date()))
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let (checked, right) = Live.checkContainerRuns(try tail.stop(settle: 1), runs, runtime: "podman")
        print("podman loop: \(loops) containers, \(right) of \(checked) container events carry the right ID")
        XCTAssertEqual(right, checked)
    }

    func testContainerdContainersAreAttributed() throws {
        let tail = try TailRun()
        var runs: [(id: String, from: Date, to: Date)] = []
        for i in 0..<loops {
            let name = "bw-\(getpid())-\(i)"
            let from = Date()
            let r = try ctr(["run", "--rm", "--rootfs", Self.env["ROOTFS"]!, name, "/bin/sh", "-c", workload])
            runs.append((name, from, Date()))
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let (checked, right) = Live.checkContainerRuns(try tail.stop(settle: 1), runs, runtime: "containerd")
        print("containerd loop: \(loops) containers, \(right) of \(checked) container events carry the right ID")
        XCTAssertEqual(right, checked)
    }

    /// runc containers at the cgroup paths Kubernetes, CRI-O and systemd use.
    func testRuncAtKubernetesCrioAndSystemdPaths() throws {
        func hex() -> String { (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        let u = "0123abcd_4567_89ab_cdef_\(String(hex().prefix(12)))"
        let d = u.replacingOccurrences(of: "_", with: "-")
        let shapes: [(path: String, id: String, runtime: String, pod: String?, qos: String?)] = {
            let a = hex(), b = hex(), c = hex()
            return [
                ("/kubepods/burstable/pod\(d)/\(a)", a, "containerd", d, "burstable"),
                ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(u).slice/crio-\(b).scope", b, "cri-o", d, "besteffort"),
                ("/system.slice/docker-\(c).scope", c, "docker", nil, nil),
            ]
        }()
        let tail = try TailRun()
        var runs: [(id: String, from: Date, to: Date)] = []
        for (i, s) in shapes.enumerated() {
            let from = Date()
            let r = try ctr(["run", "--rm", "--cgroup", s.path, "--rootfs", Self.env["ROOTFS"]!, "bw-shape-\(getpid())-\(i)",
                             "/bin/sh", "-c", workload])
            runs.append((s.id, from, Date()))
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let events = try tail.stop(settle: 1)
        // runc removes the leaf cgroup only: remove the parents it made, deepest first
        for s in shapes {
            var parts = s.path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                let rel = "/" + parts.joined(separator: "/")
                for h in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] { rmdir("/sys/fs/cgroup/\(h)\(rel)") }
                parts = parts.dropLast()
            }
        }
        for (s, run) in zip(shapes, runs) {
            let (checked, right) = Live.checkContainerRuns(events, [run], runtime: s.runtime)
            XCTAssertEqual(right, checked, s.path)
            let mine = events.filter { $0.containerID == s.id && $0.action == "open" }
            XCTAssertFalse(mine.isEmpty, s.path)
            for e in mine {
                XCTAssertEqual(e.string("orchestrator.resource.id"), s.pod, s.path)
                XCTAssertEqual(e.string("boxwatch.qos"), s.qos, s.path)
            }
        }
    }
}
