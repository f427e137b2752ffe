@testable import BoxwatchCore

/// Builds wire records byte by byte at the offsets docs/wire-format.md
/// documents, written out here as numbers, so decoding is checked against
/// the documented format rather than against the C struct it is read with.
struct RecordBuilder {
    var bytes: [UInt8]

    static let headerSize = 96
    static let execData = 144, openData = 144, connectData = 248, cgroupData = 120
    static let execSize = 1424, openSize = 912, connectSize = 504, cgroupSize = 888
    /// Version 1 (older dumps): exec and open had a 136-byte fixed part.
    static let execDataV1 = 136, openDataV1 = 136, execSizeV1 = 1160, openSizeV1 = 648

    init(kind: UInt16, size: Int, version: UInt16 = 2) {
        bytes = [UInt8](repeating: 0, count: size)
        put16(0, kind)
        put16(2, version)
        put16(4, UInt16(size))
        put16(6, 96)           // hdr_size
    }

    /// Little-endian integer at `off`.
    mutating func put<T: FixedWidthInteger>(_ off: Int, _ v: T) {
        for i in 0..<(T.bitWidth / 8) { bytes[off + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }
    mutating func put16(_ off: Int, _ v: UInt16) { put(off, v) }
    mutating func put32(_ off: Int, _ v: UInt32) { put(off, v) }
    mutating func put64(_ off: Int, _ v: UInt64) { put(off, v) }
    mutating func putBytes(_ off: Int, _ b: [UInt8]) {
        for (i, x) in b.enumerated() { bytes[off + i] = x }
    }
    /// A bw_str descriptor at `at`, its bytes at `dataOff`.
    mutating func putString(at: Int, dataOff: Int, _ s: [UInt8], flags: UInt16 = 0) {
        putBytes(dataOff, s)
        put16(at, UInt16(dataOff))
        put16(at + 2, UInt16(s.count))
        put16(at + 4, flags)
    }

    struct Header {
        var ts: UInt64 = 1_000_000_000
        var seq: UInt64 = 7
        var cgroup: UInt64 = 1
        var cpu: UInt32 = 1
        var pid: UInt32 = 4242
        var tid: UInt32 = 4243
        var ppid: UInt32 = 1
        var uid: UInt32 = 1000
        var gid: UInt32 = 100
        var nsPid: UInt32 = 5
        var pidns: UInt32 = 4026531836
        var mntns: UInt32 = 4026531840
        var comm = "cat"
        var cgroupName = ""
    }

    mutating func header(_ h: Header, cgroupNameAt dataOff: Int) {
        put64(8, h.ts); put64(16, h.seq); put64(24, h.cgroup)
        put32(32, h.cpu); put32(36, h.pid); put32(40, h.tid); put32(44, h.ppid)
        put32(48, h.uid); put32(52, h.gid); put32(56, h.nsPid); put32(60, h.pidns); put32(64, h.mntns)
        putBytes(72, Array(h.comm.utf8.prefix(15)))
        putString(at: 88, dataOff: dataOff, Array(h.cgroupName.utf8))
    }

    /// A version-2 open; `dir` nil writes it absent (flag 4), as for an absolute path.
    static func open(_ h: Header = Header(), path: String, ret: Int64, dirfd: Int32 = -100,
                     flags: UInt32 = 0, mode: UInt32 = 0, syscall: UInt16 = 4, resolve: UInt64 = 0,
                     pathFlags: UInt16 = 0, dir: String? = nil, dirStrFlags: UInt16 = 0,
                     dirFlags: UInt16 = 0) -> [UInt8] {
        var b = RecordBuilder(kind: 2, size: openSize)
        b.header(h, cgroupNameAt: 144)
        b.put64(96, UInt64(bitPattern: ret)); b.put32(104, UInt32(bitPattern: dirfd))
        b.put32(108, flags); b.put32(112, mode); b.put16(116, syscall); b.put16(118, dirFlags)
        b.put64(120, resolve)
        b.putString(at: 128, dataOff: 400, Array(path.utf8), flags: pathFlags)
        b.putString(at: 136, dataOff: 656, Array((dir ?? "").utf8), flags: dir == nil ? 4 : dirStrFlags)
        return b.bytes
    }

    /// A version-1 open (648 bytes): no dir, pad at 118.
    static func openV1(_ h: Header = Header(), path: String, ret: Int64, dirfd: Int32 = -100,
                       flags: UInt32 = 0, syscall: UInt16 = 4) -> [UInt8] {
        var b = RecordBuilder(kind: 2, size: openSizeV1, version: 1)
        b.header(h, cgroupNameAt: 136)
        b.put64(96, UInt64(bitPattern: ret)); b.put32(104, UInt32(bitPattern: dirfd))
        b.put32(108, flags); b.put16(116, syscall)
        b.putString(at: 128, dataOff: 392, Array(path.utf8))
        return b.bytes
    }

    /// A version-2 exec; `exe` nil writes it absent (flag 4), as for a failed exec.
    static func exec(_ h: Header = Header(), filename: String, argv: [String], ret: Int32 = 0,
                     argc: UInt32? = nil, syscall: UInt16 = 1, argvFlags: UInt16 = 0, execFlags: UInt16 = 0,
                     exe: String? = nil, exeStrFlags: UInt16 = 0, exeFlags: UInt16 = 0) -> [UInt8] {
        var b = RecordBuilder(kind: 1, size: execSize)
        b.header(h, cgroupNameAt: 144)
        b.put32(96, UInt32(bitPattern: ret)); b.put32(100, UInt32(bitPattern: -100))
        b.put32(108, argc ?? UInt32(argv.count)); b.put16(112, syscall); b.put16(114, execFlags)
        b.put16(116, exeFlags)
        b.putString(at: 120, dataOff: 400, Array(filename.utf8))
        let blob: [UInt8] = argv.flatMap { Array($0.utf8) + [UInt8(0)] }
        b.putString(at: 128, dataOff: 656, blob, flags: argvFlags)
        b.putString(at: 136, dataOff: 1168, Array((exe ?? "").utf8), flags: exe == nil ? 4 : exeStrFlags)
        return b.bytes
    }

    /// A version-1 exec (1160 bytes): no exe, u32 pad at 116.
    static func execV1(_ h: Header = Header(), filename: String, argv: [String], ret: Int32 = 0) -> [UInt8] {
        var b = RecordBuilder(kind: 1, size: execSizeV1, version: 1)
        b.header(h, cgroupNameAt: 136)
        b.put32(96, UInt32(bitPattern: ret)); b.put32(100, UInt32(bitPattern: -100))
        b.put32(108, UInt32(argv.count)); b.put16(112, 1)
        b.putString(at: 120, dataOff: 392, Array(filename.utf8))
        let blob: [UInt8] = argv.flatMap { Array($0.utf8) + [UInt8(0)] }
        b.putString(at: 128, dataOff: 648, blob)
        return b.bytes
    }

    static func connect(_ h: Header = Header(), sockaddr: [UInt8], ret: Int32, fd: Int32 = 3,
                        sockType: UInt16 = 1, proto: UInt16 = 6) -> [UInt8] {
        var b = RecordBuilder(kind: 3, size: connectSize)
        b.header(h, cgroupNameAt: connectData)
        b.put32(96, UInt32(bitPattern: ret)); b.put32(100, UInt32(bitPattern: fd))
        b.put32(104, UInt32(sockaddr.count)); b.put16(108, sockType); b.put16(110, proto)
        b.put16(112, 7); b.put16(114, UInt16(sockaddr.count))
        b.putBytes(120, sockaddr)
        return b.bytes
    }

    static func cgroup(_ h: Header = Header(), created: Bool, id: UInt64, path: String, level: UInt32) -> [UInt8] {
        var b = RecordBuilder(kind: created ? 4 : 5, size: cgroupSize)
        b.header(h, cgroupNameAt: cgroupData)
        b.put64(96, id); b.put32(104, 0); b.put32(108, level)
        b.putString(at: 112, dataOff: cgroupData + 256, Array(path.utf8))
        return b.bytes
    }

    /// A fork record: 104 bytes, no cgroup name (absent).
    static func fork(_ h: Header = Header(), child: UInt32) -> [UInt8] {
        var b = RecordBuilder(kind: 6, size: 104)
        b.header(h, cgroupNameAt: 0)
        b.put16(88, 0); b.put16(90, 0); b.put16(92, 4)  // absent
        b.put32(96, child)
        return b.bytes
    }

    /// sockaddr_in: family 2 (host order), port and address in network order.
    static func sockaddrIn(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) -> [UInt8] {
        [2, 0, UInt8(port >> 8), UInt8(port & 0xff), a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0]
    }

    /// sockaddr_in6 (28 bytes).
    static func sockaddrIn6(_ addr: [UInt8], port: UInt16, scope: UInt32 = 0) -> [UInt8] {
        [10, 0, UInt8(port >> 8), UInt8(port & 0xff), 0, 0, 0, 0] + addr
            + [UInt8(scope & 0xff), UInt8(scope >> 8 & 0xff), UInt8(scope >> 16 & 0xff), UInt8(scope >> 24)]
    }
}
