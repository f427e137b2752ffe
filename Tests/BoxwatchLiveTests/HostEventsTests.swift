import Foundation
import XCTest

/// Acceptance: known host workloads give exactly the expected events.
final class HostEventsTests: XCTestCase {
    let python = "/usr/bin/python3"

    override func setUpWithError() throws {
        try Live.requireSensor()
        if !FileManager.default.isExecutableFile(atPath: python) { try Live.unavailable("needs \(python)") }
    }

    func testKnownWorkloadGivesExactEvents() throws {
        let tail = try TailRun()
        let cat = try Live.run("/bin/cat", ["/etc/hostname"])
        let refused = try Live.run(python, ["-c", """
            import socket
            try:
                socket.create_connection(("127.0.0.1", 9))
            except ConnectionRefusedError:
                print("refused")
            """])
        let relative = try Live.run(python, ["-c", """
            import os
            d = os.open("/etc", os.O_RDONLY | os.O_DIRECTORY)
            fd = os.open("hostname", os.O_RDONLY, dir_fd=d)
            print(d, fd)
            """])
        let truePid = try Live.run("/bin/true").pid
        let events = try tail.stop()

        // cat /etc/hostname: one successful exec with its argv, one open of the file
        XCTAssertEqual(cat.status, 0)
        let catExec = events.of(pid: cat.pid).actions("exec")
        XCTAssertEqual(catExec.count, 1, "\(catExec)")
        XCTAssertEqual(catExec.first?.executable, "/bin/cat")
        XCTAssertEqual(catExec.first?.args, ["/bin/cat", "/etc/hostname"])
        XCTAssertEqual(catExec.first?.outcome, "success")
        XCTAssertEqual(catExec.first?.comm, "cat")
        let catOpen = events.of(pid: cat.pid).actions("open").filter { $0.filePath == "/etc/hostname" }
        XCTAssertEqual(catOpen.count, 1, "\(catOpen)")
        XCTAssertEqual(catOpen.first?.outcome, "success")
        XCTAssertEqual(catOpen.first?.int("boxwatch.ret"), 3)  // first free fd after 0, 1, 2
        XCTAssertEqual(catOpen.first?.comm, "cat")
        XCTAssertTrue(events.of(pid: cat.pid).actions("connect").isEmpty)

        // refused connect: exactly one, with address, port, transport and errno
        XCTAssertEqual(refused.stdout, "refused\n")
        let connects = events.of(pid: refused.pid).actions("connect")
        XCTAssertEqual(connects.count, 1, "\(connects)")
        XCTAssertEqual(connects.first?.string("destination.ip"), "127.0.0.1")
        XCTAssertEqual(connects.first?.int("destination.port"), 9)
        XCTAssertEqual(connects.first?.string("network.transport"), "tcp")
        XCTAssertEqual(connects.first?.outcome, "failure")
        XCTAssertEqual(connects.first?.int("boxwatch.errno"), 111)
        XCTAssertEqual(connects.first?.comm, "python3")

        // relative openat with a directory fd: the path as passed, the dirfd, the fd returned
        let fds = relative.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        XCTAssertEqual(fds.count, 2, relative.stdout + relative.stderr)
        let rel = events.of(pid: relative.pid).actions("open").filter { $0.string("boxwatch.path") == "hostname" }
        XCTAssertEqual(rel.count, 1, "\(rel)")
        XCTAssertEqual(rel.first?.filePath, "/etc/hostname")  // resolved in the kernel (wire v2)
        XCTAssertEqual(rel.first?.int("boxwatch.dirfd"), fds.first)
        XCTAssertEqual(rel.first?.int("boxwatch.ret"), fds.last)
        XCTAssertEqual(rel.first?.string("boxwatch.syscall"), "openat")
        XCTAssertEqual(rel.first?.outcome, "success")

        // /bin/true: one successful exec
        let t = events.of(pid: truePid).actions("exec")
        XCTAssertEqual(t.count, 1, "\(t)")
        XCTAssertEqual(t.first?.executable, "/bin/true")
        XCTAssertEqual(t.first?.args, ["/bin/true"])
        XCTAssertEqual(t.first?.outcome, "success")
        XCTAssertEqual(t.first?.comm, "true")

        // all of it is host activity; the sensor does not see itself
        for e in events.filter({ [cat.pid, refused.pid, relative.pid, truePid].map(Int.init).contains($0.pid ?? -1) }) {
            XCTAssertNil(e.containerID, "\(e)")
            XCTAssertEqual(e.string("boxwatch.attribution"), "host", "\(e)")
        }
        XCTAssertTrue(events.of(pid: tail.pid).isEmpty)
    }

    /// A failed exec is reported as an attempt, with its errno and argv.
    func testFailedExecIsAnAttempt() throws {
        let tail = try TailRun(["--kind", "exec"])
        let r = try Live.run(python, ["-c", """
            import os
            try:
                os.execv("/nonexistent/boxwatch-nope", ["nope", "a b"])
            except OSError as e:
                print(e.errno)
            """])
        let events = try tail.stop()
        XCTAssertEqual(r.stdout, "2\n")
        let failed = events.of(pid: r.pid).filter { $0.outcome == "failure" }
        XCTAssertEqual(failed.count, 1, "\(events.of(pid: r.pid))")
        XCTAssertEqual(failed.first?.executable, "/nonexistent/boxwatch-nope")
        XCTAssertEqual(failed.first?.args, ["nope", "a b"])
        XCTAssertEqual(failed.first?.int("boxwatch.errno"), 2)
        XCTAssertEqual(failed.first?.string("boxwatch.errno_name"), "ENOENT")
        XCTAssertTrue(events.allSatisfy { $0.action == "exec" }, "--kind exec shows only execs")
    }

    /// Every open-family syscall the kernel offers on x86_64 produces an event.
    func testEveryOpenSyscallIsSeen() throws {
        let tail = try TailRun(["--kind", "open"])
        let scratch = "/tmp/boxwatch-creat-\(getpid())"
        defer { unlink(scratch) }
        let r = try Live.run(python, ["-c", """
            import ctypes, struct
            libc = ctypes.CDLL(None, use_errno=True)
            how = ctypes.create_string_buffer(struct.pack("QQQ", 0, 0, 0x04), 24)  # RESOLVE_NO_SYMLINKS
            fd_open = libc.syscall(2, b"/etc/hostname", 0)                 # open
            fd_openat2 = libc.syscall(437, -100, b"/etc/hostname", how, 24)  # openat2
            fd_creat = libc.syscall(85, b"\(scratch)", 0o600)            # creat
            missing = libc.syscall(2, b"/nonexistent/boxwatch", 0)
            print(fd_open, fd_openat2, fd_creat, missing, ctypes.get_errno())
            """])
        let events = try tail.stop()
        let n = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        XCTAssertEqual(n.count, 5, r.stdout + r.stderr)
        guard n.count == 5 else { return }
        let mine = events.of(pid: r.pid)
        func one(_ syscall: String, _ path: String) -> ECSEvent? {
            let hits = mine.filter { $0.string("boxwatch.syscall") == syscall && $0.filePath == path }
            XCTAssertEqual(hits.count, 1, "\(syscall) \(path): \(hits)")
            return hits.first
        }
        XCTAssertEqual(one("open", "/etc/hostname")?.int("boxwatch.ret"), n[0])
        let o2 = one("openat2", "/etc/hostname")
        XCTAssertEqual(o2?.int("boxwatch.ret"), n[1])
        XCTAssertEqual(o2?.int("boxwatch.resolve"), 4)
        let c = one("creat", scratch)
        XCTAssertEqual(c?.int("boxwatch.ret"), n[2])
        XCTAssertEqual(c?.int("boxwatch.flags"), 0o1101)  // O_WRONLY|O_CREAT|O_TRUNC
        XCTAssertEqual(c?.int("boxwatch.mode"), 0o600)
        let miss = one("open", "/nonexistent/boxwatch")
        XCTAssertEqual(miss?.outcome, "failure")
        XCTAssertEqual(miss?.int("boxwatch.errno"), n[4])
    }

    /// IPv6, IPv4-mapped IPv6 and AF_UNIX destinations, decoded from the raw
    /// sockaddr. The calls run in a network namespace with only a (down)
    /// loopback, so they fail at once and nothing leaves the machine.
    func testConnectFamilies() throws {
        let tail = try TailRun(["--kind", "connect"])
        let r = try Live.run("/usr/bin/unshare", ["-n", python, "-c", """
            import socket
            out = []
            for fam, addr in [(socket.AF_INET6, ("::ffff:203.0.113.7", 443)),
                              (socket.AF_INET6, ("2001:db8::7", 443)),
                              (socket.AF_INET, ("203.0.113.7", 443))]:
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.setblocking(False)
                out.append(s.connect_ex(addr))
                s.close()
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            out.append(u.connect_ex("/nonexistent/boxwatch.sock"))
            a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            out.append(a.connect_ex("\\0boxwatch-abstract-nobody"))
            print(*out)
            """])
        let events = try tail.stop()
        let errnos = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        XCTAssertEqual(errnos.count, 5, r.stdout + r.stderr)
        guard errnos.count == 5 else { return }
        let mine = events.of(pid: r.pid).actions("connect")
        XCTAssertEqual(mine.count, 5, "\(mine)")
        guard mine.count == 5 else { return }

        let mapped = mine[0]
        XCTAssertEqual(mapped.string("destination.ip"), "203.0.113.7")
        XCTAssertEqual(mapped.int("destination.port"), 443)
        XCTAssertEqual(mapped.string("boxwatch.address_raw"), "::ffff:203.0.113.7")
        XCTAssertEqual(mapped.value("boxwatch.ipv4_mapped") as? Bool, true)
        XCTAssertEqual(mapped.string("boxwatch.family"), "inet6")
        XCTAssertEqual(mapped.string("network.type"), "ipv4")
        XCTAssertEqual(mapped.string("network.transport"), "tcp")

        XCTAssertEqual(mine[1].string("destination.ip"), "2001:db8::7")
        XCTAssertEqual(mine[1].string("network.type"), "ipv6")
        XCTAssertNil(mine[1].value("boxwatch.ipv4_mapped"))

        XCTAssertEqual(mine[2].string("destination.ip"), "203.0.113.7")
        XCTAssertEqual(mine[2].string("boxwatch.family"), "inet")

        XCTAssertEqual(mine[3].string("destination.address"), "/nonexistent/boxwatch.sock")
        XCTAssertEqual(mine[3].string("boxwatch.family"), "unix")
        XCTAssertEqual(mine[3].string("boxwatch.socket_type"), "stream")
        XCTAssertEqual(mine[4].string("destination.address"), "@boxwatch-abstract-nobody")
        XCTAssertEqual(mine[4].string("boxwatch.socket_type"), "dgram")

        for (e, expected) in zip(mine, errnos) {
            XCTAssertEqual(e.outcome, expected == 0 ? "success" : expected == 115 ? "unknown" : "failure", "\(e)")
            if expected != 0 { XCTAssertEqual(e.int("boxwatch.errno"), expected, "\(e)") }
        }
    }

    /// A call that seccomp refuses never runs, and its sys_enter never fires;
    /// it is still reported, as a failed attempt with seccomp's errno.
    func testSeccompDeniedOpenIsReported() throws {
        let tail = try TailRun(["--kind", "open"])
        let r = try Live.run(python, ["-c", """
            import ctypes, struct
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
            # classic BPF: A = syscall nr; openat -> ERRNO(EPERM), else ALLOW
            insns = [(0x20, 0, 0, 0), (0x15, 0, 1, 257), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7fff0000)]
            code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in insns))
            prog = ctypes.create_string_buffer(struct.pack("HxxxxxxQ", len(insns), ctypes.addressof(code)))
            assert libc.prctl(38, 1, 0, 0, 0) == 0                       # PR_SET_NO_NEW_PRIVS
            assert libc.prctl(22, 2, ctypes.addressof(prog), 0, 0) == 0  # PR_SET_SECCOMP, FILTER
            rc = libc.syscall(257, -100, b"/etc/hostname", 0, 0)
            print(rc, ctypes.get_errno())
            """])
        let events = try tail.stop()
        XCTAssertEqual(r.stdout, "-1 1\n", r.stderr)
        let denied = events.of(pid: r.pid).filter { $0.filePath == "/etc/hostname" }
        XCTAssertEqual(denied.count, 1, "\(events.of(pid: r.pid))")
        XCTAssertEqual(denied.first?.outcome, "failure")
        XCTAssertEqual(denied.first?.int("boxwatch.errno"), 1)
        XCTAssertEqual(denied.first?.string("boxwatch.syscall"), "openat")
    }
}
