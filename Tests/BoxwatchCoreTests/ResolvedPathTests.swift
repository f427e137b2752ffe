import Foundation
import XCTest
@testable import BoxwatchCore

/// Wire version 2's walked paths (open's dir, exec's exe), the version-1
/// records older dumps hold, and the absolute path computed from them.
final class ResolvedPathTests: XCTestCase {
    func testNormalizeTable() {
        let table: [(String, String)] = [
            ("/", "/"),
            ("", "/"),
            ("//", "/"),
            ("/etc/hostname", "/etc/hostname"),
            ("/etc//hostname", "/etc/hostname"),
            ("//etc///hostname//", "/etc/hostname"),
            ("/etc/./hostname", "/etc/hostname"),
            ("/./././etc", "/etc"),
            ("/etc/", "/etc"),
            ("/etc/.", "/etc"),
            ("/etc/..", "/"),
            ("/etc/../", "/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("/../../etc/shadow", "/etc/shadow"),
            ("/root/../../../etc/shadow", "/etc/shadow"),
            ("/a/b/c/../../d", "/a/d"),
            ("/a/b/../../../../c", "/c"),
            ("/a/..b/c", "/a/..b/c"),        // "..b" and "...": names, not dots
            ("/a/.../c", "/a/.../c"),
            ("/a/.hidden", "/a/.hidden"),
            ("etc/hostname", "/etc/hostname"),  // taken as from the root
            ("/tmp/a b/\\xff", "/tmp/a b/\\xff"),
            ("/héllo/./wörld/..", "/héllo"),
        ]
        for (input, expected) in table {
            XCTAssertEqual(PathText.normalize(input), expected, input)
        }
    }

    /// The fast path (a path already normal is returned as is) agrees with
    /// the definition on every string of up to 7 characters from "/", "." and "a".
    func testNormalFastPathAgreesWithDefinition() {
        var level = [""], all = [""]
        for _ in 0..<7 {
            level = level.flatMap { s in ["/", ".", "a"].map { s + $0 } }
            all += level
        }
        for s in all {
            XCTAssertEqual(PathText.isNormal(s), PathText.rebuilt(s) == s, s)
        }
    }

    func open(_ path: String, dir: String?, dirStrFlags: UInt16 = 0, dirFlags: UInt16 = 0,
              pathFlags: UInt16 = 0, dirfd: Int32 = -100) throws -> OpenDetail {
        let e = try RecordDecoder.decode(RecordBuilder.open(path: path, ret: 3, dirfd: dirfd, pathFlags: pathFlags,
                                                           dir: dir, dirStrFlags: dirStrFlags, dirFlags: dirFlags))
        XCTAssertEqual(e.header.version, 2)
        guard case .open(let o) = e.detail else { XCTFail("not an open"); throw CancellationError() }
        return o
    }

    func testOpenV2Directory() throws {
        let o = try open("hostname", dir: "/etc", dirfd: 5)
        XCTAssertEqual(o.directory, WireText("/etc"))
        XCTAssertEqual(o.directoryFlags, [])
        XCTAssertEqual(o.dirfd, 5)
        XCTAssertEqual(o.absolutePath, "/etc/hostname")
        XCTAssertEqual(try open("../../etc/hostname", dir: "/root/a").absolutePath, "/etc/hostname")
        XCTAssertEqual(try open("../../../../../../etc/shadow", dir: "/root").absolutePath, "/etc/shadow")
        XCTAssertEqual(try open("./sub//file", dir: "/tmp/w").absolutePath, "/tmp/w/sub/file")
        XCTAssertEqual(try open(".", dir: "/").absolutePath, "/")
        XCTAssertEqual(try open("x", dir: "/").absolutePath, "/x")
    }

    /// What the directory's string and path flags do to the absolute path.
    func testDirectoryFlagsTable() throws {
        let cases: [(String, String?, UInt16, UInt16, String?)] = [
            // path, dir, bw_str flags, BW_PATH_* flags, absolute path
            ("/etc//hostname", nil, 0, 0, "/etc/hostname"),         // absolute: no walk, still normalised
            ("hostname", nil, 0, 0, nil),                          // relative, no dir: unknown
            ("hostname", "", 2, 0, nil),                           // fault: dirfd not an open file
            ("hostname", "b/etc", 1, 0, nil),                      // truncated walk
            ("hostname", "/etc/hostname", 0, 1, nil),              // dirfd not a directory (ENOTDIR)
            ("f", "/tmp/gone", 0, 2, "/tmp/gone/f"),               // deleted: where it was, flagged
            ("shadow", "/etc", 0, 4, "/etc/shadow"),               // outside the task's root, flagged
            ("x", "/memfd:m", 0, 8 | 1, nil),                      // detached, not a directory
            ("", "/etc", 0, 0, nil),                               // empty path (ENOENT)
        ]
        for (path, dir, strFlags, pathFlags, expected) in cases {
            let o = try open(path, dir: dir, dirStrFlags: strFlags, dirFlags: pathFlags)
            XCTAssertEqual(o.absolutePath, expected, "\(path) in \(dir ?? "nil")")
            XCTAssertEqual(o.directoryFlags.rawValue, pathFlags)
            XCTAssertEqual(o.directory == nil, dir == nil)
            XCTAssertEqual(o.directory?.fault ?? false, strFlags & 2 != 0)
            XCTAssertEqual(o.directory?.truncated ?? false, strFlags & 1 != 0)
        }
        // the path as passed: unknown or cut gives no absolute path
        XCTAssertNil(try open("", dir: "/etc", pathFlags: 2).absolutePath)
        XCTAssertNil(try open("/very/long", dir: nil, pathFlags: 1).absolutePath)
        XCTAssertEqual(PathFlags(rawValue: 15).names, ["not_dir", "deleted", "outside_root", "detached"])
    }

    /// Version-1 records (as in Tests/Fixtures) decode with no directory.
    func testOpenV1() throws {
        let rel = try RecordDecoder.decode(RecordBuilder.openV1(path: "./hostname", ret: 3, dirfd: -100, flags: 0o2000000))
        XCTAssertEqual(rel.header.version, 1)
        XCTAssertEqual(rel.header.size, 648)
        guard case .open(let o) = rel.detail else { return XCTFail() }
        XCTAssertEqual(o.path.value, "./hostname")
        XCTAssertEqual(o.flags, 0o2000000)
        XCTAssertEqual(o.syscall, .openat)
        XCTAssertEqual(o.result, 3)
        XCTAssertNil(o.directory)
        XCTAssertEqual(o.directoryFlags, [])
        XCTAssertNil(o.absolutePath)
        let abs = try RecordDecoder.decode(RecordBuilder.openV1(path: "/etc/./hostname", ret: 3))
        guard case .open(let a) = abs.detail else { return XCTFail() }
        XCTAssertEqual(a.absolutePath, "/etc/hostname")
    }

    func testExecV1AndV2() throws {
        let v1 = try RecordDecoder.decode(RecordBuilder.execV1(filename: "/bin/cat", argv: ["cat", "/etc/hostname"]))
        guard case .exec(let x1) = v1.detail else { return XCTFail() }
        XCTAssertEqual(v1.header.version, 1)
        XCTAssertEqual(x1.filename.value, "/bin/cat")
        XCTAssertEqual(x1.argv, ["cat", "/etc/hostname"])
        XCTAssertNil(x1.executable)

        let v2 = try RecordDecoder.decode(RecordBuilder.exec(filename: "/bin/cat", argv: ["cat"], exe: "/usr/bin/cat"))
        guard case .exec(let x2) = v2.detail else { return XCTFail() }
        XCTAssertEqual(x2.executable, WireText("/usr/bin/cat"))
        XCTAssertEqual(x2.argv, ["cat"])

        let memfd = try RecordDecoder.decode(RecordBuilder.exec(filename: "/proc/self/fd/3", argv: ["x"],
                                                                exe: "/memfd:payload", exeFlags: 8))
        guard case .exec(let x3) = memfd.detail else { return XCTFail() }
        XCTAssertEqual(x3.executable?.value, "/memfd:payload")
        XCTAssertEqual(x3.executableFlags, .detached)

        let failed = try RecordDecoder.decode(RecordBuilder.exec(filename: "nope", argv: [], ret: -2))
        guard case .exec(let x4) = failed.detail else { return XCTFail() }
        XCTAssertNil(x4.executable)
    }

    func testUnsupportedVersionNamesTheReadableOnes() {
        var b = RecordBuilder.open(path: "/x", ret: 3)
        b[2] = 9
        XCTAssertThrowsError(try RecordDecoder.decode(b)) { error in
            XCTAssertEqual(error as? DecodeError, .unsupportedVersion(found: 9, supported: [1, 2]))
            XCTAssertEqual("\(error)", "record wire version 9 is not supported (this build reads 1, 2)")
        }
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        var out = ""
        ECSFormatter().format(try RecordDecoder.decode(bytes), attribution: .host, clock: WallClock(offsetNanos: 0), into: &out)
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
    }

    func testECSFields() throws {
        let j = try json(RecordBuilder.open(path: "../etc/shadow", ret: 3, dir: "/root"))
        XCTAssertEqual((j["file"] as? [String: Any])?["path"] as? String, "/etc/shadow")
        let bw = j["boxwatch"] as! [String: Any]
        XCTAssertEqual(bw["path"] as? String, "../etc/shadow")
        XCTAssertEqual(bw["directory"] as? String, "/root")
        XCTAssertNil(bw["directory_truncated"])

        // unresolved: file.path stays the path as passed (as for version 1)
        let cut = try json(RecordBuilder.open(path: "hostname", ret: 3, dirfd: 4, dir: "c/d", dirStrFlags: 1, dirFlags: 2))
        XCTAssertEqual((cut["file"] as? [String: Any])?["path"] as? String, "hostname")
        let cbw = cut["boxwatch"] as! [String: Any]
        XCTAssertEqual(cbw["directory"] as? String, "c/d")
        XCTAssertEqual(cbw["directory_truncated"] as? Bool, true)
        XCTAssertEqual(cbw["directory_deleted"] as? Bool, true)

        let bad = try json(RecordBuilder.open(path: "x", ret: -9, dirfd: 999, dir: "", dirStrFlags: 2))
        let bbw = bad["boxwatch"] as! [String: Any]
        XCTAssertNil(bbw["directory"])
        XCTAssertEqual(bbw["directory_read_error"] as? Bool, true)

        let abs = try json(RecordBuilder.open(path: "/etc/hostname", ret: 3))
        XCTAssertNil((abs["boxwatch"] as! [String: Any])["directory"])
        XCTAssertEqual((abs["boxwatch"] as! [String: Any])["path"] as? String, "/etc/hostname")

        let x = try json(RecordBuilder.exec(filename: "/proc/self/fd/3", argv: ["x"], exe: "/memfd:p", exeFlags: 8))
        XCTAssertEqual((x["process"] as? [String: Any])?["executable"] as? String, "/proc/self/fd/3")
        XCTAssertEqual((x["boxwatch"] as? [String: Any])?["exe"] as? String, "/memfd:p")
        XCTAssertEqual((x["boxwatch"] as? [String: Any])?["exe_detached"] as? Bool, true)
    }

    func testTextShowsTheResolvedPath() throws {
        var out = ""
        let e = try RecordDecoder.decode(RecordBuilder.open(path: "hostname", ret: 3, dirfd: 4, dir: "/etc"))
        TextFormatter(color: false).format(e, attribution: .host, clock: WallClock(offsetNanos: 0), into: &out)
        XCTAssertTrue(out.contains("hostname dirfd=4 (/etc/hostname) O_RDONLY -> fd=3"), out)
    }
}
