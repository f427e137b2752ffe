import Foundation
import XCTest
@testable import BoxwatchCore

final class FormatterTests: XCTestCase {
    let clock = WallClock(offsetNanos: 1_764_780_000_000_000_000 - 1_000_000_000)  // header ts 1 s -> this Unix time

    func json(_ bytes: [UInt8], _ a: Attribution = .host) throws -> [String: Any] {
        var out = ""
        ECSFormatter().format(try RecordDecoder.decode(bytes), attribution: a, clock: clock, into: &out)
        XCTAssertTrue(out.hasSuffix("\n"))
        XCTAssertEqual(out.filter { $0 == "\n" }.count, 1)
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
    }

    func testUTCTime() {
        // 1764780000 = 2025-12-03T16:40:00Z (date -u -d @1764780000)
        XCTAssertEqual(UTCTime(unixNanos: 1_764_780_000_123_456_789).iso8601, "2025-12-03T16:40:00.123456789Z")
        XCTAssertEqual(UTCTime(unixNanos: 0).iso8601, "1970-01-01T00:00:00.000000000Z")
        XCTAssertEqual(UTCTime(unixNanos: 951_782_400_000_000_000).iso8601, "2000-02-29T00:00:00.000000000Z")
        XCTAssertEqual(UTCTime(unixNanos: -1).iso8601, "1969-12-31T23:59:59.999999999Z")
    }

    func testOpenECS() throws {
        let id = CgroupPathTests.id
        let a = CgroupPath.attribute(path: "/docker/\(id)")
        let j = try json(RecordBuilder.open(path: "hostname", ret: 4, dirfd: 3, flags: 0o2000000), a)
        XCTAssertEqual(j["@timestamp"] as? String, "2025-12-03T16:40:00.000000000Z")
        let event = j["event"] as! [String: Any]
        XCTAssertEqual(event["action"] as? String, "open")
        XCTAssertEqual(event["outcome"] as? String, "success")
        XCTAssertEqual(event["category"] as? [String], ["file"])
        XCTAssertEqual((j["file"] as! [String: Any])["path"] as? String, "hostname")
        let process = j["process"] as! [String: Any]
        XCTAssertEqual(process["pid"] as? Int, 4242)
        XCTAssertEqual(process["name"] as? String, "cat")
        XCTAssertEqual((process["parent"] as! [String: Any])["pid"] as? Int, 1)
        XCTAssertEqual((j["user"] as! [String: Any])["id"] as? String, "1000")
        let container = j["container"] as! [String: Any]
        XCTAssertEqual(container["id"] as? String, id)
        XCTAssertEqual(container["runtime"] as? String, "docker")
        let bw = j["boxwatch"] as! [String: Any]
        XCTAssertEqual(bw["dirfd"] as? Int, 3)
        XCTAssertEqual(bw["ret"] as? Int, 4)
        XCTAssertEqual(bw["flags_names"] as? String, "O_RDONLY|O_CLOEXEC")
        XCTAssertEqual(bw["seq"] as? Int, 7)
        XCTAssertEqual(bw["cgroup_id"] as? Int, 1)
    }

    func testExecECSAndHostHasNoContainer() throws {
        let j = try json(RecordBuilder.exec(filename: "/bin/true", argv: ["true", "x\"y\n"]))
        XCTAssertNil(j["container"])
        XCTAssertEqual((j["boxwatch"] as! [String: Any])["attribution"] as? String, "host")
        let p = j["process"] as! [String: Any]
        XCTAssertEqual(p["executable"] as? String, "/bin/true")
        XCTAssertEqual(p["args"] as? [String], ["true", "x\"y\n"])
        XCTAssertEqual(p["args_count"] as? Int, 2)
    }

    func testFailedConnectECS() throws {
        let j = try json(RecordBuilder.connect(sockaddr: RecordBuilder.sockaddrIn(127, 0, 0, 1, port: 9), ret: -111))
        XCTAssertEqual((j["event"] as! [String: Any])["outcome"] as? String, "failure")
        XCTAssertEqual((j["network"] as! [String: Any])["transport"] as? String, "tcp")
        let bw = j["boxwatch"] as! [String: Any]
        XCTAssertEqual(bw["errno"] as? Int, 111)
        XCTAssertEqual(bw["errno_name"] as? String, "ECONNREFUSED")
    }

    func testUnknownAttributionKeepsRawPath() throws {
        let j = try json(RecordBuilder.open(path: "/x", ret: 3), .unknown(path: "/docker/odd"))
        XCTAssertNil(j["container"])
        let bw = j["boxwatch"] as! [String: Any]
        XCTAssertEqual(bw["attribution"] as? String, "unknown")
        XCTAssertEqual(bw["cgroup_path"] as? String, "/docker/odd")
    }

    func testTextLine() throws {
        let e = try RecordDecoder.decode(RecordBuilder.open(path: "/etc/shadow", ret: -13))
        var out = ""
        TextFormatter(color: false).format(e, attribution: .host, clock: clock, into: &out)
        XCTAssertEqual(out, "16:40:00.000000 host          4242     cat              open     /etc/shadow O_RDONLY -> EACCES\n")
        var colored = ""
        TextFormatter(color: true).format(e, attribution: .host, clock: clock, into: &colored)
        XCTAssertTrue(colored.contains("\u{1b}[31mEACCES"))
    }

    func testTextQuotesHostileNames() throws {
        let e = try RecordDecoder.decode(RecordBuilder.open(path: "a b\n-> ok", ret: 3))
        var out = ""
        TextFormatter(color: false).format(e, attribution: .host, clock: clock, into: &out)
        XCTAssertTrue(out.contains("'a b\\x0a-> ok'"), out)
        XCTAssertEqual(out.filter { $0 == "\n" }.count, 1)
    }

    func testOpenFlags() {
        XCTAssertEqual(Describe.openFlags(0), "O_RDONLY")
        XCTAssertEqual(Describe.openFlags(0o1101), "O_WRONLY|O_CREAT|O_TRUNC")
        XCTAssertEqual(Describe.openFlags(0o20200002), "O_RDWR|O_TMPFILE")
        XCTAssertEqual(Describe.openFlags(0o4010000), "O_RDONLY|O_SYNC")
    }

    func testFilter() throws {
        let e = try RecordDecoder.decode(RecordBuilder.open(path: "/x", ret: 3))
        let c = CgroupPath.attribute(path: "/docker/\(CgroupPathTests.id)")
        var f = EventFilter()
        XCTAssertTrue(f.accepts(e, .host))
        f.containers = ["host"]
        XCTAssertTrue(f.accepts(e, .host))
        XCTAssertFalse(f.accepts(e, c))
        f.containers = [String(CgroupPathTests.id.prefix(12))]
        XCTAssertTrue(f.accepts(e, c))
        f = EventFilter(); f.kinds = [.exec]
        XCTAssertFalse(f.accepts(e, .host))
        f = EventFilter(); f.pids = [1]
        XCTAssertFalse(f.accepts(e, .host))
        let mk = try RecordDecoder.decode(RecordBuilder.cgroup(created: true, id: 5, path: "/a", level: 1))
        XCTAssertFalse(EventFilter().accepts(mk, .host), "cgroup records only when asked for")
    }

    func testPipelineCountsUndecodable() {
        let p = Pipeline(formatter: ECSFormatter(), clock: clock)
        var out = ""
        [UInt8](repeating: 0xff, count: 200).withUnsafeBytes { _ = p.handle($0, into: &out) }
        RecordBuilder.open(path: "/etc/hostname", ret: 3).withUnsafeBytes { _ = p.handle($0, into: &out) }
        XCTAssertEqual(p.undecodable, 1)
        XCTAssertEqual(p.lastError, .unknownKind(0xffff))
        XCTAssertEqual(p.shown, 1)
        XCTAssertEqual(out.filter { $0 == "\n" }.count, 1)
    }
}

final class UTCTimeEdgeTests: XCTestCase {
    /// Found by the fuzz target: stamps near Int64's ends must not trap.
    func testExtremeStamps() {
        XCTAssertEqual(UTCTime(unixNanos: .max).iso8601, "2262-04-11T23:47:16.854775807Z")
        XCTAssertEqual(UTCTime(unixNanos: .min).iso8601, "1677-09-21T00:12:43.145224192Z")
        XCTAssertEqual(WallClock(offsetNanos: .max).unixNanos(boot: .max), .max - 1)  // wraps, never traps
    }
}

final class HostileTextTests: XCTestCase {
    let clock = WallClock(offsetNanos: 0)

    func line(_ bytes: [UInt8], _ a: Attribution = .host) throws -> String {
        var out = ""
        TextFormatter(color: false).format(try RecordDecoder.decode(bytes), attribution: a, clock: clock, into: &out)
        return out
    }

    /// Nothing a process controls can forge a line or steer the terminal.
    func testEveryControlledFieldIsQuoted() throws {
        var h = RecordBuilder.Header()
        h.comm = "ev\nil\u{1b}[2J"
        let exec = try line(RecordBuilder.exec(h, filename: "/tmp/x\n12:00:00 host", argv: ["a\u{9b}31m", "b\u{202e}txt"]))
        XCTAssertEqual(exec.filter { $0 == "\n" }.count, 1, exec)
        XCTAssertFalse(exec.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x9b || $0.value == 0x202e }, exec)
        XCTAssertTrue(exec.contains("'ev\\x0ail\\x1b[2J'"), exec)
        XCTAssertTrue(exec.contains("'/tmp/x\\x0a12:00:00 host'"), exec)
        XCTAssertTrue(exec.contains("'a\\x9b31m'"), exec)
        XCTAssertTrue(exec.contains("'b\\u{202e}txt'"), exec)

        let unix: [UInt8] = [1, 0] + Array("/run/a\nb.sock".utf8)
        let connect = try line(RecordBuilder.connect(sockaddr: unix, ret: -2, sockType: 1, proto: 0))
        XCTAssertTrue(connect.contains("'unix:/run/a\\x0ab.sock' -> ENOENT"), connect)

        let odd = try line(RecordBuilder.open(path: "/x", ret: 3), .unknown(path: "/weird\n/docker"))
        XCTAssertEqual(odd.filter { $0 == "\n" }.count, 1, odd)
    }

    /// Two names that differ only in invalid bytes must not print alike.
    func testInvalidUTF8IsSpelledOut() throws {
        var b = RecordBuilder.open(path: "/tmp/Xbin", ret: 3)
        b[RecordBuilder.openData + 256 + 5] = 0xff
        let e = try RecordDecoder.decode(b)
        guard case .open(let o) = e.detail else { return XCTFail() }
        XCTAssertEqual(o.path.value, "/tmp/\\xffbin")
        XCTAssertTrue(o.path.invalidUTF8)
        var out = ""
        ECSFormatter().format(e, attribution: .host, clock: clock, into: &out)
        XCTAssertTrue(out.contains("\"path_invalid_utf8\":true"), out)
        XCTAssertEqual(decodeBytes(Array("héllo".utf8)).text, "héllo")
        XCTAssertEqual(decodeBytes([0x61, 0xc3]).text, "a\\xc3")          // cut sequence
        XCTAssertEqual(decodeBytes([0xc0, 0xaf]).text, "\\xc0\\xaf")       // overlong '/'
        XCTAssertEqual(decodeBytes([0xed, 0xa0, 0x80]).text, "\\xed\\xa0\\x80")  // surrogate
    }

    /// An absent or unreadable argv is no arguments, not one empty argument;
    /// an unreadable path is left out of JSON, never printed as "".
    func testUnknownValuesAreNotEmptyStrings() throws {
        let e = try RecordDecoder.decode(RecordBuilder.exec(filename: "/x", argv: [], ret: -14, argc: 0, argvFlags: 2))
        guard case .exec(let x) = e.detail else { return XCTFail() }
        XCTAssertEqual(x.argv, [])
        XCTAssertTrue(x.argvFault)
        let f = try RecordDecoder.decode(RecordBuilder.open(path: "", ret: -14, pathFlags: 2))
        var out = ""
        ECSFormatter().format(f, attribution: .host, clock: clock, into: &out)
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        XCTAssertNil((json["file"] as? [String: Any])?["path"])
        XCTAssertEqual((json["boxwatch"] as! [String: Any])["path_read_error"] as? Bool, true)
        var text = ""
        TextFormatter(color: false).format(f, attribution: .host, clock: clock, into: &text)
        XCTAssertTrue(text.contains("<unreadable>"), text)
    }

    func testInterruptedCallIsNotAFailure() throws {
        let e = try RecordDecoder.decode(RecordBuilder.connect(sockaddr: RecordBuilder.sockaddrIn(127, 0, 0, 1, port: 80), ret: -512))
        XCTAssertEqual(e.outcome, .interrupted)
        XCTAssertEqual(Describe.result(e), "ERESTARTSYS")
        var out = ""
        ECSFormatter().format(e, attribution: .host, clock: clock, into: &out)
        XCTAssertTrue(out.contains("\"outcome\":\"unknown\""), out)
        XCTAssertTrue(out.contains("\"interrupted\":true"), out)
    }

    /// The writer scans eight bytes at a time for what needs escaping: a
    /// byte to escape at any position of a word, or in the tail, is escaped,
    /// and every string reads back as itself.
    func testJSONEscapingAtEveryPosition() throws {
        for bad: UInt8 in [0x00, 0x01, 0x0a, 0x1f, 0x22, 0x5c, 0x7f] {
            for at in 0..<20 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 20)
                bytes[at] = bad
                let text = String(decoding: bytes, as: UTF8.self)
                var j = JSONWriter()
                j.object { $0.field("v", text) }
                let line = j.text
                XCTAssertFalse(line.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }), line)
                let back = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
                XCTAssertEqual(back?["v"], text, "byte \(bad) at \(at)")
            }
        }
        // bytes with the high bit (UTF-8) and the characters next to the escaped ones pass as they are
        let plain = "é/ü!#$[]{}~ \u{1F600}abcdefgh"
        var j = JSONWriter()
        j.object { $0.field("v", plain) }
        XCTAssertEqual(j.text, "{\"v\":\"\(plain)\"}")
    }
}
