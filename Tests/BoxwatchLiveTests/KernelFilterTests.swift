import Foundation
import XCTest

/// The in-kernel ignore lists: what they name never becomes a record (and
/// is not counted as seen or lost); everything else still arrives.
final class KernelFilterTests: CgroupLiveTestCase {
    /// A cgroup2 directory under a per-test parent (removed in tearDown).
    func cgroup(_ relative: String) throws -> String {
        let dir = Self.unified + "/" + relative
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // outermost first: cleanup runs in reverse, so the deepest goes first
        let parts = relative.split(separator: "/").map(String.init)
        for depth in 1...parts.count {
            let d = Self.unified + "/" + parts.prefix(depth).joined(separator: "/")
            cleanup.append { rmdir(d) }
        }
        return dir
    }

    /// Runs `cat FILE` inside the cgroup; returns cat's pid. (The process
    /// starts outside: only what it does after moving in is the cgroup's.)
    func cat(_ file: String, in dir: String) throws -> Int32 {
        let r = try Live.run("/bin/sh", ["-c", "echo $$ > \"$0/cgroup.procs\" && exec /bin/cat \"$1\"", dir, file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.pid
    }

    func accounting(_ tail: TailRun) -> String {
        tail.stderrText.split(separator: "\n").first { $0.contains("accounting:") }.map(String.init) ?? ""
    }

    func testIgnoredPathPrefixesAndTaskNames() throws {
        let dir = try tempDir()
        for d in ["skip", "keep"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(d)", withIntermediateDirectories: true) }
        for f in ["skip/a", "skip/.b", "keep/c"] { FileManager.default.createFile(atPath: "\(dir)/\(f)", contents: Data("x".utf8)) }
        try FileManager.default.copyItem(atPath: "/bin/cat", toPath: dir + "/quietcat")
        let tail = try TailRun(["--kind", "open,exec", "--ignore-path", dir + "/skip/", "--ignore-path", "/proc/",
                                "--ignore-comm", "quietcat"])
        let skipped = try Live.run("/bin/cat", [dir + "/skip/a"])
        // under /proc/ by name only: a magic link to another filesystem, and a failed open, are kept
        let magic = try Live.run("/bin/cat", ["/proc/self/root/etc/hostname", dir + "/skip/missing"])
        let dotted = try Live.run("/bin/cat", [dir + "/skip/../keep/c", dir + "/skip/./a", dir + "/skip/.b"])
        let kept = try Live.run("/bin/cat", [dir + "/keep/c"])
        let quiet = try Live.run(dir + "/quietcat", [dir + "/keep/c"])
        let events = try tail.stop()

        XCTAssertTrue(events.of(pid: skipped.pid).actions("open").filter { $0.filePath?.hasPrefix(dir) == true }.isEmpty,
                      "an open under the ignored prefix is left out")
        XCTAssertEqual(events.of(pid: skipped.pid).actions("exec").count, 1, "the same process's exec still arrives")
        // a "/." component is never ignored: ".." could leave the tree, "." and dot files are kept to be safe
        XCTAssertEqual(Set(events.of(pid: dotted.pid).actions("open").compactMap { $0.string("boxwatch.path") }.filter { $0.hasPrefix(dir) }),
                       [dir + "/skip/../keep/c", dir + "/skip/./a", dir + "/skip/.b"])
        XCTAssertEqual(Set(events.of(pid: magic.pid).actions("open").compactMap { $0.string("boxwatch.path") }
                            .filter { $0.hasPrefix("/proc/") || $0.hasPrefix(dir) }),
                       ["/proc/self/root/etc/hostname", dir + "/skip/missing"])
        XCTAssertEqual(events.of(pid: kept.pid).actions("open").filter { $0.filePath == dir + "/keep/c" }.count, 1)
        // (before its exec the spawned child still has the test runner's name)
        XCTAssertTrue(events.of(pid: quiet.pid).filter { $0.comm == "quietcat" }.isEmpty,
                      "the ignored task name's exec and opens are left out: \(events.of(pid: quiet.pid))")
        XCTAssertFalse(events.of(pid: quiet.pid).isEmpty, "its events from before the exec (another name) arrive")
        // the left-out opens are not losses: the accounting holds and names them
        let line = accounting(tail)
        XCTAssertTrue(line.contains("(exact)"), line)
        XCTAssertTrue(line.contains("left out by ignored path prefixes"), line)
    }

    /// A task of an ignored name that execs a program of another name: the
    /// exec is reported, with its own syscall (execveat from a memfd), not
    /// arguments left over from an earlier exec.
    func testAnIgnoredNameExecingAnotherIsReportedWithItsOwnSyscall() throws {
        let dir = try tempDir()
        try FileManager.default.createSymbolicLink(atPath: dir + "/quietpy", withDestinationPath: "/usr/bin/python3")
        let tail = try TailRun(["--kind", "exec", "--ignore-comm", "quietpy"])
        let r = try Live.run(dir + "/quietpy", ["-c", """
            import os
            fd = os.memfd_create("fileless")
            os.write(fd, open("/bin/true", "rb").read())
            os.execve(fd, ["fileless"], {})
            """])
        let events = try tail.stop()
        XCTAssertEqual(r.status, 0, r.stderr)
        let execs = events.of(pid: r.pid).actions("exec")
        XCTAssertTrue(execs.allSatisfy { $0.comm != "quietpy" }, "\(execs)")
        let fileless = execs.filter { $0.string("boxwatch.exe")?.hasPrefix("/memfd:fileless") == true }
        XCTAssertEqual(fileless.count, 1, "\(execs)")
        XCTAssertEqual(fileless.first?.string("boxwatch.syscall"), "execveat")
    }

    func testIgnoredCgroupSubtreeAndScopes() throws {
        let top = "boxwatch-filter-\(getpid())"
        let quiet = try cgroup("\(top)/quiet")
        let loud = try cgroup("\(top)/loud")
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let container = try cgroup("\(top)/docker/\(id)")

        // a subtree: its cgroups (also one made after start) are left out, a sibling is not
        var tail = try TailRun(["--kind", "open", "--ignore-cgroup", "/\(top)/quiet"])
        let later = try cgroup("\(top)/quiet/later")
        usleep(300_000)  // its mkdir record reaches user space, which adds it to the kernel's map
        let q = try cat("/etc/hostname", in: quiet), ql = try cat("/etc/hostname", in: later), l = try cat("/etc/hostname", in: loud)
        var events = try tail.stop()
        func reads(_ pid: Int32) -> [ECSEvent] { events.of(pid: pid).actions("open").filter { $0.filePath == "/etc/hostname" } }
        XCTAssertTrue(reads(q).isEmpty && reads(ql).isEmpty, "the ignored subtree is left out")
        XCTAssertEqual(events.of(pid: l).actions("open").filter { $0.filePath == "/etc/hostname" }.count, 1)

        // containers only: a host cgroup is left out, the container's events arrive
        tail = try TailRun(["--kind", "open", "--containers-only"])
        let h = try cat("/etc/hostname", in: loud), c = try cat("/etc/hostname", in: container)
        events = try tail.stop()
        XCTAssertTrue(reads(h).isEmpty, "a host cgroup's events are left out")
        XCTAssertEqual(events.of(pid: c).actions("open").filter { $0.filePath == "/etc/hostname" }.first?.string("container.id"), id)

        // host only: the reverse
        tail = try TailRun(["--kind", "open", "--host-only"])
        let h2 = try cat("/etc/hostname", in: loud), c2 = try cat("/etc/hostname", in: container)
        events = try tail.stop()
        XCTAssertTrue(reads(c2).isEmpty, "the container's events are left out")
        XCTAssertEqual(events.of(pid: h2).actions("open").filter { $0.filePath == "/etc/hostname" }.count, 1)
        XCTAssertTrue(accounting(tail).contains("(exact)"), accounting(tail))
    }

    func testBadIgnoreOptions() throws {
        for (args, says) in [(["--ignore-path", "relative/x"], "--ignore-path 'relative/x'"),
                             (["--ignore-comm", "a-name-longer-than-15"], "--ignore-comm"),
                             (["--ignore-path", "/srv/./x"], "without a '/.'"),
                             (["--ignore-cgroup", "docker"], "--ignore-cgroup 'docker'"),
                             (["--containers-only", "--host-only"], "exclude each other")] {
            let r = try Live.run(Live.binary, ["tail"] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(says), "\(args): \(r.stderr)")
        }
    }
}
