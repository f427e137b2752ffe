import XCTest
@testable import BoxwatchCore

final class RecordDecoderTests: XCTestCase {
    func testHeaderFields() throws {
        var h = RecordBuilder.Header()
        h.cgroupName = "docker-" + String(repeating: "ab", count: 32) + ".scope"
        h.comm = "exactly15chars!"
        let e = try RecordDecoder.decode(RecordBuilder.open(h, path: "/etc/hostname", ret: 3))
        XCTAssertEqual(e.header.kind, .open)
        XCTAssertEqual(e.header.bootTimeNanos, 1_000_000_000)
        XCTAssertEqual(e.header.sequence, 7)
        XCTAssertEqual(e.header.cgroup, CgroupID(1))
        XCTAssertEqual(e.header.cpu, 1)
        XCTAssertEqual(e.header.pid, 4242)
        XCTAssertEqual(e.header.tid, 4243)
        XCTAssertEqual(e.header.ppid, 1)
        XCTAssertEqual(e.header.uid, 1000)
        XCTAssertEqual(e.header.gid, 100)
        XCTAssertEqual(e.header.namespacePid, 5)
        XCTAssertEqual(e.header.pidNamespace, 4026531836)
        XCTAssertEqual(e.header.mountNamespace, 4026531840)
        XCTAssertEqual(e.header.comm, "exactly15chars!")
        XCTAssertEqual(e.header.cgroupName.value, h.cgroupName)
    }

    func testOpen() throws {
        let e = try RecordDecoder.decode(RecordBuilder.open(path: "hostname", ret: 4, dirfd: 3,
                                                           flags: 0o2000000, mode: 0, syscall: 4))
        guard case .open(let o) = e.detail else { return XCTFail("not an open: \(e.detail)") }
        XCTAssertEqual(o.path.value, "hostname")
        XCTAssertEqual(o.dirfd, 3)
        XCTAssertEqual(o.result, 4)
        XCTAssertEqual(o.syscall, .openat)
        XCTAssertEqual(e.outcome, .success)
        XCTAssertNil(e.errno)
    }

    func testFailedOpenIsAFailureWithErrno() throws {
        let e = try RecordDecoder.decode(RecordBuilder.open(path: "/etc/shadow", ret: -13))
        XCTAssertEqual(e.outcome, .failure)
        XCTAssertEqual(e.errno, 13)
        XCTAssertEqual(Describe.result(e), "EACCES")
    }

    func testTruncatedAndFaultedStringsAreFlagged() throws {
        let t = try RecordDecoder.decode(RecordBuilder.open(path: "/very/long", ret: 3, pathFlags: 1))
        guard case .open(let o) = t.detail else { return XCTFail() }
        XCTAssertTrue(o.path.truncated)
        let f = try RecordDecoder.decode(RecordBuilder.open(path: "", ret: -14, pathFlags: 2))
        guard case .open(let p) = f.detail else { return XCTFail() }
        XCTAssertTrue(p.path.fault)
        XCTAssertEqual(p.path.value, "")
    }

    func testExecArgv() throws {
        let e = try RecordDecoder.decode(RecordBuilder.exec(filename: "/bin/cat", argv: ["cat", "", "a b"]))
        guard case .exec(let x) = e.detail else { return XCTFail() }
        XCTAssertEqual(x.filename.value, "/bin/cat")
        XCTAssertEqual(x.argv, ["cat", "", "a b"])  // an empty argument survives
        XCTAssertEqual(x.argc, 3)
        XCTAssertEqual(x.syscall, .execve)
        XCTAssertEqual(e.outcome, .success)
    }

    func testTruncatedArgvKeepsThePartialLastArgument() throws {
        var b = RecordBuilder.exec(filename: "/bin/echo", argv: [], argc: 1000, argvFlags: 1, execFlags: 1)
        // blob without the final NUL: the last argument was cut
        let blob = Array("echo\0abc".utf8)
        for (i, x) in blob.enumerated() { b[RecordBuilder.execData + 512 + i] = x }
        b[130] = UInt8(blob.count)
        let e = try RecordDecoder.decode(b)
        guard case .exec(let x) = e.detail else { return XCTFail() }
        XCTAssertEqual(x.argv, ["echo", "abc"])
        XCTAssertTrue(x.argvTruncated)
        XCTAssertTrue(x.argcIsLowerBound)
        XCTAssertEqual(x.argc, 1000)
    }

    func testFailedExec() throws {
        let e = try RecordDecoder.decode(RecordBuilder.exec(filename: "nosuchcmd", argv: ["nosuchcmd"], ret: -2))
        XCTAssertEqual(e.outcome, .failure)
        XCTAssertEqual(e.errno, 2)
    }

    func testConnectIPv4() throws {
        let e = try RecordDecoder.decode(RecordBuilder.connect(sockaddr: RecordBuilder.sockaddrIn(127, 0, 0, 1, port: 9), ret: -111))
        guard case .connect(let c) = e.detail else { return XCTFail() }
        XCTAssertEqual(c.address, .inet(IPAddress(v4: 127, 0, 0, 1), port: 9))
        XCTAssertEqual(c.address.description, "127.0.0.1:9")
        XCTAssertEqual(e.errno, 111)
        XCTAssertEqual(Describe.transport(c), "tcp")
    }

    func testConnectInProgressIsPendingNotFailure() throws {
        let e = try RecordDecoder.decode(RecordBuilder.connect(sockaddr: RecordBuilder.sockaddrIn(203, 0, 113, 7, port: 443), ret: -115))
        XCTAssertEqual(e.outcome, .pending)
    }

    func testCgroupRecord() throws {
        let path = "/docker/" + String(repeating: "c", count: 64)
        let e = try RecordDecoder.decode(RecordBuilder.cgroup(created: true, id: 9001, path: path, level: 2))
        guard case .cgroup(let g) = e.detail else { return XCTFail() }
        XCTAssertEqual(e.kind, .cgroupCreated)
        XCTAssertEqual(g.id, CgroupID(9001))
        XCTAssertEqual(g.path.value, path)
        XCTAssertEqual(g.level, 2)
    }

    /// Every malformed record is an error value naming what was wrong.
    func testMalformedRecords() {
        let good = RecordBuilder.open(path: "/etc/hostname", ret: 3)
        let v1 = RecordBuilder.openV1(path: "/etc/hostname", ret: 3)
        func mutate(_ f: (inout RecordBuilder) -> Void) -> [UInt8] {
            var b = RecordBuilder(kind: 2, size: good.count)
            b.bytes = good
            f(&b)
            return b.bytes
        }
        let cases: [(String, [UInt8], DecodeError)] = [
            ("empty", [], .shorterThanHeader(size: 0, headerSize: 96)),
            ("shorter than header", Array(good.prefix(95)), .shorterThanHeader(size: 95, headerSize: 96)),
            ("unknown kind", mutate { $0.put16(0, 99) }, .unknownKind(99)),
            ("kind zero", mutate { $0.put16(0, 0) }, .unknownKind(0)),
            ("future version", mutate { $0.put16(2, 3) }, .unsupportedVersion(found: 3, supported: [1, 2])),
            ("version zero", mutate { $0.put16(2, 0) }, .unsupportedVersion(found: 0, supported: [1, 2])),
            ("header size", mutate { $0.put16(6, 104) }, .headerSizeMismatch(found: 104, expected: 96)),
            ("size larger than delivered", mutate { $0.put16(4, 1000) }, .sizeMismatch(declared: 1000, actual: 912)),
            ("size smaller than delivered", mutate { $0.put16(4, 96) }, .sizeMismatch(declared: 96, actual: 912)),
            ("body cut", { var b = Array(good.prefix(140)); b[4] = 140; b[5] = 0; return b }(),
             .shorterThanBody(kind: .open, size: 140, needed: 144)),
            ("string past end", mutate { $0.put16(128, 900); $0.put16(130, 20) },
             .stringOutOfBounds(field: "path", offset: 900, length: 20, recordSize: 912)),
            ("string inside fixed part", mutate { $0.put16(128, 100); $0.put16(130, 4) },
             .stringOutOfBounds(field: "path", offset: 100, length: 4, recordSize: 912)),
            // 136 is where version 1's strings may start, inside version 2's fixed part
            ("string inside v2 fixed part", mutate { $0.put16(128, 136); $0.put16(130, 4) },
             .stringOutOfBounds(field: "path", offset: 136, length: 4, recordSize: 912)),
            ("dir past end", mutate { $0.put16(136, 656); $0.put16(138, 257); $0.put16(140, 0) },
             .stringOutOfBounds(field: "dir", offset: 656, length: 257, recordSize: 912)),
            ("cgroup name past end", mutate { $0.put16(88, 0xffff); $0.put16(90, 0xffff) },
             .stringOutOfBounds(field: "cgroup_name", offset: 0xffff, length: 0xffff, recordSize: 912)),
            ("v1 body cut", { var b = Array(v1.prefix(120)); b[4] = 120; b[5] = 0; return b }(),
             .shorterThanBody(kind: .open, size: 120, needed: 136)),
            ("v1 string past end", { var b = v1; b[128] = 0x80; b[129] = 0x02; b[130] = 20; return b }(),
             .stringOutOfBounds(field: "path", offset: 640, length: 20, recordSize: 648)),
            ("v1 exec body cut", { var b = Array(RecordBuilder.execV1(filename: "/x", argv: []).prefix(130)); b[4] = 130; b[5] = 0; return b }(),
             .shorterThanBody(kind: .exec, size: 130, needed: 136)),
        ]
        for (name, bytes, expected) in cases {
            XCTAssertThrowsError(try RecordDecoder.decode(bytes), name) { error in
                XCTAssertEqual(error as? DecodeError, expected, name)
                XCTAssertFalse("\(error)".isEmpty)
            }
        }
    }

    /// Random bytes never crash the decoder (a cheap stand-in for the fuzz target).
    func testRandomBytesNeverCrash() {
        var rng = SplitMix(seed: 42)
        let good = RecordBuilder.exec(filename: "/bin/true", argv: ["true"])
        for i in 0..<5000 {
            var b = good
            for _ in 0..<(1 + i % 8) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            if i % 3 == 0 { b = Array(b.prefix(Int(rng.next() % UInt64(b.count)))) }
            _ = try? RecordDecoder.decode(b)
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

final class DecoderEdgeTests: XCTestCase {
    /// Found by the fuzz target: extreme result values must not trap.
    func testExtremeResults() throws {
        let e = try RecordDecoder.decode(RecordBuilder.open(path: "/x", ret: .min))
        XCTAssertEqual(e.errno, .max)
        let x = try RecordDecoder.decode(RecordBuilder.exec(filename: "/x", argv: [], ret: .min))
        XCTAssertEqual(x.errno, .max)
        var out = ""
        ECSFormatter().format(x, attribution: .host, clock: WallClock(offsetNanos: 0), into: &out)
        XCTAssertTrue(out.contains("\"errno\":2147483647"))
    }
}
