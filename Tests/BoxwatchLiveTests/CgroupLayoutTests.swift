import Foundation
import XCTest

/// Real processes in real cgroup2 directories shaped like each runtime's
/// layout: each is attributed to the right ID, runtime, pod and QoS, even
/// though the cgroup is removed right after the process exits.
final class CgroupLayoutTests: XCTestCase {
    static let unified = "/sys/fs/cgroup/unified"

    override func setUpWithError() throws {
        try Live.requireSensor()
        if !FileManager.default.fileExists(atPath: Self.unified + "/cgroup.procs") {
            try Live.unavailable("needs cgroup2 at \(Self.unified)")
        }
    }

    struct Layout {
        var path: String
        var id: String
        var runtime: String
        var pod: String? = nil
        var qos: String? = nil
        var role: String? = nil
    }

    func randomID() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    func testEveryLayoutIsAttributed() throws {
        let id = randomID(), outer = randomID()
        let podU = "0123abcd_4567_89ab_cdef_\(String(randomID().prefix(12)))"
        let podD = podU.replacingOccurrences(of: "_", with: "-")
        let ctrName = "bw-\(getpid())"
        let kube = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(podU).slice"
        let layouts = [
            Layout(path: "/system.slice/docker-\(id).scope", id: id, runtime: "docker"),
            Layout(path: "/docker/\(id)", id: id, runtime: "docker"),
            Layout(path: "/docker/\(outer)/docker/\(id)", id: id, runtime: "docker"),
            Layout(path: "/default/\(ctrName)", id: ctrName, runtime: "containerd"),
            Layout(path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(podU).slice/cri-containerd-\(id).scope",
                   id: id, runtime: "containerd", pod: podD, qos: "besteffort"),
            Layout(path: "/kubepods.slice/kubepods-pod\(podU).slice/cri-containerd-\(id).scope",
                   id: id, runtime: "containerd", pod: podD, qos: "guaranteed"),
            Layout(path: "/kubepods/burstable/pod\(podD)/\(id)", id: id, runtime: "containerd", pod: podD, qos: "burstable"),
            Layout(path: "/system.slice/containerd.service/kubepods-burstable-pod\(podU).slice:cri-containerd:\(id)",
                   id: id, runtime: "containerd", pod: podD, qos: "burstable"),
            Layout(path: "\(kube)/crio-\(id).scope/container", id: id, runtime: "cri-o", pod: podD, qos: "burstable"),
            Layout(path: "\(kube)/crio-conmon-\(id).scope", id: id, runtime: "cri-o", pod: podD, qos: "burstable",
                   role: "runtime-helper"),
            Layout(path: "/libpod_parent/libpod-\(id)", id: id, runtime: "podman"),
            Layout(path: "/machine.slice/libpod-\(id).scope/container", id: id, runtime: "podman"),
            Layout(path: "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(id).scope/container",
                   id: id, runtime: "podman"),
        ]
        let tail = try TailRun()
        var pids: [Int32] = []
        for layout in layouts {
            pids.append(try runIn(cgroup: layout.path))
        }
        let events = try tail.stop()

        for (layout, pid) in zip(layouts, pids) {
            let mine = events.of(pid: pid)
            let exec = mine.actions("exec").filter { $0.executable == "/bin/cat" }
            let open = mine.actions("open").filter { $0.filePath == "/etc/hostname" }
            XCTAssertEqual(exec.count, 1, "\(layout.path): exec events \(exec)")
            XCTAssertEqual(open.count, 1, "\(layout.path): open events \(open)")
            for e in exec + open {
                XCTAssertEqual(e.containerID, layout.id, layout.path)
                XCTAssertEqual(e.runtime, layout.runtime, layout.path)
                XCTAssertEqual(e.string("orchestrator.resource.id"), layout.pod, layout.path)
                XCTAssertEqual(e.string("boxwatch.qos"), layout.qos, layout.path)
                XCTAssertEqual(e.string("boxwatch.container_role"), layout.role, layout.path)
                XCTAssertEqual(e.string("boxwatch.cgroup_path"), layout.path, layout.path)
            }
        }
    }

    /// A path that looks like a container's but matches no rule is never shown as host.
    func testUnmatchedContainerPathIsUnknownNotHost() throws {
        let path = "/kubepods/burstable/pod-not-a-uid/odd-\(getpid())"
        let tail = try TailRun()
        let pid = try runIn(cgroup: path)
        let events = try tail.stop()
        let mine = events.of(pid: pid).filter { $0.filePath == "/etc/hostname" }
        XCTAssertEqual(mine.count, 1)
        XCTAssertNil(mine.first?.containerID)
        XCTAssertEqual(mine.first?.string("boxwatch.attribution"), "unknown")
        XCTAssertEqual(mine.first?.string("boxwatch.cgroup_path"), path)
    }

    /// B01: on a hybrid host a runtime can put a container in v1 hierarchies
    /// only; its processes sit in the cgroup2 root. They are named by their
    /// v1 pids cgroup, read in the kernel, and never shown as host.
    func testV1OnlyContainerIsAttributedByItsV1Name() throws {
        let v1 = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory"]
        guard v1.allSatisfy({ FileManager.default.fileExists(atPath: $0 + "/cgroup.procs") }) else {
            try Live.unavailable("needs cgroup v1 pids and memory hierarchies (a hybrid host)")
        }
        let id = randomID()
        var made: [String] = []
        defer { for d in made.reversed() { rmdir(d) } }
        for root in v1 {
            for dir in [root + "/docker", root + "/docker/" + id] where !FileManager.default.fileExists(atPath: dir) {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
                made.append(dir)
            }
        }
        let tail = try TailRun()
        let r = try Live.run("/bin/sh", ["-c",
            "for c in pids memory; do echo $$ > /sys/fs/cgroup/$c/docker/$0/cgroup.procs; done; exec /bin/cat /etc/hostname", id])
        let host = try Live.run("/bin/cat", ["/etc/hostname"])
        let events = try tail.stop()
        XCTAssertEqual(r.status, 0, r.stderr)
        let mine = events.of(pid: r.pid).filter { $0.action == "open" && $0.filePath == "/etc/hostname" }
        XCTAssertEqual(mine.count, 1)
        XCTAssertEqual(mine.first?.containerID, id)
        XCTAssertEqual(mine.first?.runtime, "docker")
        XCTAssertEqual(mine.first?.string("boxwatch.cgroup_path"), "v1:.../docker/\(id)")
        XCTAssertEqual(mine.first?.int("boxwatch.cgroup_id"), 1, "its cgroup2 is the root")
        for e in events.of(pid: host.pid) { XCTAssertNil(e.containerID, "\(e)") }
    }

    /// Makes the cgroup (and missing parents), runs `cat /etc/hostname` in it,
    /// removes what it made. Returns the pid of the process (sh, then cat).
    func runIn(cgroup path: String) throws -> Int32 {
        let fm = FileManager.default
        var made: [String] = []
        var dir = Self.unified
        for part in path.split(separator: "/") {
            dir += "/" + part
            if !fm.fileExists(atPath: dir) {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: false)
                made.append(dir)
            }
        }
        defer {
            for d in made.reversed() { rmdir(d) }
        }
        let r = try Live.run("/bin/sh", ["-c", "echo $$ > \"$0/cgroup.procs\" && exec /bin/cat /etc/hostname", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.pid
    }
}
