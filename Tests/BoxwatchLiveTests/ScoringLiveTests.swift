import BoxwatchCore
import Foundation
import XCTest

/// The scoring engine against the live sensor: the adversary emulation with
/// real Docker, a config reload that fails and one that works, and baselines
/// that survive kill -9 during a save.
final class ScoringLiveTests: CgroupLiveTestCase {
    /// A Docker-shaped cgroup2 directory (no daemon needed): its processes are
    /// attributed to the 64-hex ID. Removed in tearDown.
    func fakeContainer() throws -> (id: String, dir: String) {
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let parent = Self.unified + "/boxwatch-score-test"
        let dir = parent + "/docker-\(id).scope"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup.append { rmdir(dir); rmdir(parent) }
        return (id, dir)
    }

    /// Runs python in the cgroup, in a network namespace with only loopback:
    /// the connect fails at once (ENETUNREACH) and nothing leaves the machine.
    func connect(from dir: String, to ip: String) throws {
        let py = "import socket; s=socket.socket(); s.settimeout(1)\ntry: s.connect(('\(ip)', 443))\nexcept OSError: pass"
        let r = try Live.run("/bin/sh", ["-c", "echo $$ > \"$0/cgroup.procs\" && exec unshare -n python3 -c \"$1\"", dir, py])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func waitFor(_ what: String, in path: String, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(what) { return true }
            usleep(50_000)
        }
        return false
    }

    func alerts(_ path: String) throws -> [ECSEvent] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            ECSEvent(try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])
        }
    }

    /// scripts/emulate.py: the strategy's Validation section with real Docker.
    func testAdversaryEmulation() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dockerd") || FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd") else {
            try Live.unavailable("needs docker.io (dockerd)")
        }
        let script = Live.repoRoot.appendingPathComponent("scripts/emulate.py").path
        let r = try Live.run("/usr/bin/env", ["BOXWATCH_BIN=\(Live.binary)", "python3", script])
        print(r.stdout, r.stderr)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("emulate.py: PASS"), r.stdout)
    }

    /// SIGHUP with a broken config keeps the running one (its IOCs still
    /// alert); a good config then replaces it (the new IOCs alert, the old do not).
    func testReloadKeepsThePreviousConfigWhenTheNewOneIsBad() throws {
        let dir = try tempDir()
        let config = dir + "/boxwatch.yaml"
        try "threshold: 60\nioc_files: [a.txt]\n".write(toFile: config, atomically: true, encoding: .utf8)
        try "203.0.113.0/24\n".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        try "# second list\n198.51.100.0/24\n".write(toFile: dir + "/b.txt", atomically: true, encoding: .utf8)
        let out = dir + "/alerts.jsonl", err = dir + "/err.txt"
        let pid = try Live.spawn(Live.binary, ["run", "--json", "--config", config, "--state-dir", dir + "/state"], stdout: out, stderr: err)
        var exited = false
        defer { if !exited { kill(pid, SIGKILL); waitpid(pid, nil, 0) } }
        XCTAssertTrue(Live.waitAttached(err), (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")

        try "threshold: [60\nioc_files: [a.txt]\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        XCTAssertTrue(waitFor("reload failed", in: err), (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        let errText = try String(contentsOfFile: err, encoding: .utf8)
        // line 2, column 10: the ':' libyaml met inside the unclosed flow list
        XCTAssertTrue(errText.contains("\(config):2:10: YAML syntax error"), errText)
        XCTAssertEqual(kill(pid, 0), 0, "the agent must keep running after a failed reload")

        let first = try fakeContainer()
        try connect(from: first.dir, to: "203.0.113.5")
        XCTAssertTrue(waitFor(first.id, in: out), "the old IOC list still alerts after the failed reload")

        try "threshold: 60\nioc_files: [b.txt]\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        XCTAssertTrue(waitFor("reloaded", in: err))
        let second = try fakeContainer(), third = try fakeContainer()
        try connect(from: second.dir, to: "198.51.100.7")
        try connect(from: third.dir, to: "203.0.113.5")
        XCTAssertTrue(waitFor(second.id, in: out), "the new IOC list alerts")
        usleep(500_000)
        kill(pid, SIGINT)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exited = true
        XCTAssertEqual(status, 0)
        let ioc = try alerts(out).filter { $0.string("event.action") == "ioc_destination" }
        XCTAssertEqual(ioc.compactMap { $0.string("container.id") }, [first.id, second.id])
        XCTAssertEqual(ioc.map { $0.string("event.kind") }, ["alert", "alert"])
    }

    /// kill -9 at random moments of the agent's exit-time save: the baseline
    /// file is always whole (the old one or the new one), never torn.
    func testBaselinesSurviveKill9DuringSave() throws {
        let dir = try tempDir()
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // a large previous baseline: 200 images x (250 paths + 300 programs), ~3 MB to save
        let old = BaselineStore()
        for i in 0..<200 {
            let e = old.entry("image:registry.local/app-\(i)", at: 1_700_000_000_000_000_000)
            old.countContainer(e)
            for p in 0..<250 { old.learn(path: "/srv/app-\(i)/data/file-\(p).bin", in: e) }
            for p in 0..<300 { old.learn(program: "/srv/app-\(i)/bin/tool-\(p)", in: e) }
        }
        let oldText = old.serialize()
        try oldText.write(toFile: state + "/baselines", atomically: false, encoding: .utf8)
        let config = dir + "/boxwatch.yaml"
        try "learning:\n  seconds: 600\n".write(toFile: config, atomically: true, encoding: .utf8)
        var sawNew = 0, midSave = 0
        let rounds = 10
        var exitSeconds = 1.0  // measured by round 0, which exits cleanly: its save must land
        for round in 0...rounds {
            // a Docker container (its description in a private --docker-root)
            // that teaches its image something: the store is dirty, so exit saves
            let c = try fakeContainer()
            let image = "registry.local/new-\(round)"
            let meta = dir + "/docker/containers/\(c.id)"
            try FileManager.default.createDirectory(atPath: meta, withIntermediateDirectories: true)
            try #"{"Name":"/t\#(round)","Config":{"Image":"\#(image)","Labels":{}}}"#.write(toFile: meta + "/config.v2.json", atomically: true, encoding: .utf8)
            let out = dir + "/out\(round)", err = dir + "/err\(round)"
            let pid = try Live.spawn(Live.binary, ["run", "--config", config, "--state-dir", state, "--docker-root", dir + "/docker"],
                                     stdout: out, stderr: err)
            XCTAssertTrue(Live.waitAttached(err), (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
            let r = try Live.run("/bin/sh", ["-c", "echo $$ > \"$0/cgroup.procs\" && exec /bin/cat /etc/hostname /etc/passwd", c.dir])
            XCTAssertEqual(r.status, 0)
            usleep(600_000)  // the description is read within 100 ms
            kill(pid, SIGINT)
            let stopAt = Date()
            if round > 0 && round % 2 == 0 {  // somewhere in the exit: detach, drain, save
                usleep(UInt32(Double.random(in: 0...exitSeconds) * 1e6))
                kill(pid, SIGKILL)
            } else if round > 0 {  // in the middle of the save: as soon as its temporary file exists
                let tmp = state + "/baselines.tmp.\(pid)"
                while Date().timeIntervalSince(stopAt) < exitSeconds * 2 && access(tmp, F_OK) != 0 { usleep(200) }
                kill(pid, SIGKILL)
            }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if round == 0 { exitSeconds = Date().timeIntervalSince(stopAt) }
            let text = try String(contentsOfFile: state + "/baselines", encoding: .utf8)
            let store = try BaselineStore.parse(text, file: "baselines")
            for i in [0, 99, 199] {
                XCTAssertTrue(store.entries["image:registry.local/app-\(i)"]?.paths.contains("/srv/app-\(i)/data/file-7.bin") == true,
                              "round \(round): the old baselines are intact")
                XCTAssertEqual(store.entries["image:registry.local/app-\(i)"]?.programs.count, 300)
            }
            let learned = store.entries["image:" + image]?.paths.contains("/etc/passwd") == true
            if round > 0 {
                if learned { sawNew += 1 }
            } else {
                XCTAssertEqual(status, 0)
                XCTAssertTrue(learned, "a clean exit saves what the container taught; stderr: \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: state).filter { $0 != "baselines" && $0 != "lock" }
            if !leftovers.isEmpty { midSave += 1 }
            XCTAssertTrue(round > 0 || leftovers.isEmpty, "temporary files left: \(leftovers)")
        }
        print("kill -9 rounds: \(rounds) at random points of a \(Int(exitSeconds * 1000)) ms exit: new save landed whole: \(sawNew), "
              + "previous file kept whole: \(rounds - sawNew) (\(midSave) killed mid-save, temporary file left), torn: 0")
    }
}
