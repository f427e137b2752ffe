import CBoxwatchABI

/// Why a record could not be decoded. Every case names the facts, so a bad
/// record from a newer kernel object or a corrupt dump says what was wrong.
public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case shorterThanHeader(size: Int, headerSize: Int)
    case unknownKind(UInt16)
    case unsupportedVersion(found: UInt16, supported: [UInt16])
    case headerSizeMismatch(found: UInt16, expected: Int)
    case sizeMismatch(declared: Int, actual: Int)
    case shorterThanBody(kind: EventKind, size: Int, needed: Int)
    case stringOutOfBounds(field: String, offset: Int, length: Int, recordSize: Int)

    public var description: String {
        switch self {
        case .shorterThanHeader(let size, let need):
            return "record of \(size) bytes is shorter than the \(need)-byte header"
        case .unknownKind(let k):
            return "record kind \(k) is unknown"
        case .unsupportedVersion(let found, let supported):
            return "record wire version \(found) is not supported (this build reads \(supported.map(String.init).joined(separator: ", ")))"
        case .headerSizeMismatch(let found, let expected):
            return "record header size \(found) does not match wire version's \(expected)"
        case .sizeMismatch(let declared, let actual):
            return "record declares \(declared) bytes but \(actual) were delivered"
        case .shorterThanBody(let kind, let size, let need):
            return "\(kind.rawValue) record of \(size) bytes is shorter than its \(need)-byte fixed part"
        case .stringOutOfBounds(let field, let off, let len, let size):
            return "field \(field) at offset \(off) length \(len) runs past the record's \(size) bytes"
        }
    }
}

/// Turns the bytes of one ring-buffer record into an `Event`. Pure: the same
/// bytes give the same event, live or replayed, and bad bytes give an error
/// value, never a crash.
public enum RecordDecoder {
    /// The version the BPF programs of this build write.
    public static let wireVersion = UInt16(BW_WIRE_VERSION)
    /// The versions this build decodes: 1 (old dumps; no open `dir`, no exec
    /// `exe`) and the current one.
    public static let readableVersions: [UInt16] = [1, wireVersion]
    public static let headerSize = MemoryLayout<bw_hdr>.size

    public static func decode(_ raw: UnsafeRawBufferPointer) throws(DecodeError) -> Event {
        guard raw.count >= headerSize else {
            throw .shorterThanHeader(size: raw.count, headerSize: headerSize)
        }
        let h = raw.loadUnaligned(as: bw_hdr.self)
        guard let kind = EventKind(wire: h.kind) else { throw .unknownKind(h.kind) }
        guard readableVersions.contains(h.version) else {
            throw .unsupportedVersion(found: h.version, supported: readableVersions)
        }
        let v1 = h.version == 1
        guard Int(h.hdr_size) == headerSize else {
            throw .headerSizeMismatch(found: h.hdr_size, expected: headerSize)
        }
        guard Int(h.size) == raw.count else { throw .sizeMismatch(declared: Int(h.size), actual: raw.count) }

        let reader = Reader(raw: raw, fixedEnd: fixedSize(of: kind, version: h.version))
        guard raw.count >= reader.fixedEnd else {
            throw .shorterThanBody(kind: kind, size: raw.count, needed: reader.fixedEnd)
        }
        let header = RecordHeader(
            kind: kind, version: h.version, size: raw.count,
            bootTimeNanos: h.ts_boot_ns, sequence: h.seq, cgroup: CgroupID(h.cgroup_id),
            cpu: h.cpu, pid: Int32(bitPattern: h.pid), tid: Int32(bitPattern: h.tid),
            ppid: Int32(bitPattern: h.ppid), uid: h.uid, gid: h.gid,
            namespacePid: Int32(bitPattern: h.ns_pid), pidNamespace: h.pidns_ino,
            mountNamespace: h.mntns_ino, flags: h.flags,
            comm: cString(h.comm), cgroupName: try reader.text(h.cgroup_name, field: "cgroup_name"))

        switch kind {
        case .exec:
            // version 1's layout is version 2's without exe_flags and exe
            let e = v1 ? Self.upgrade(reader.body(bw_exec_v1())) : reader.body(bw_exec())
            let argv = try reader.bytes(e.argv, field: "argv")
            var x = ExecDetail(
                result: e.ret, syscall: Syscall(rawValue: e.syscall) ?? .none,
                dirfd: e.dirfd, atFlags: e.at_flags,
                filename: try reader.text(e.filename, field: "filename"),
                argv: splitArgs(argv), argvTruncated: e.argv.flags & UInt16(BW_STR_TRUNCATED) != 0,
                argvFault: e.argv.flags & UInt16(BW_STR_FAULT) != 0,
                argc: e.argc, argcIsLowerBound: e.exec_flags & UInt16(BW_EXEC_ARGC_LOWER_BOUND) != 0)
            if !v1 {
                x.executable = try reader.walked(e.exe, field: "exe")
                x.executableFlags = PathFlags(rawValue: e.exe_flags)
            }
            return Event(header: header, detail: .exec(x))
        case .open:
            let o = v1 ? Self.upgrade(reader.body(bw_open_v1())) : reader.body(bw_open())
            var d = OpenDetail(
                result: o.ret, syscall: Syscall(rawValue: o.syscall) ?? .none, dirfd: o.dirfd,
                flags: o.flags, mode: o.mode, resolve: o.resolve,
                path: try reader.text(o.path, field: "path"))
            if !v1 {
                d.directory = try reader.walked(o.dir, field: "dir")
                d.directoryFlags = PathFlags(rawValue: o.dir_flags)
            }
            return Event(header: header, detail: .open(d))
        case .connect:
            let c = reader.body(bw_connect())
            let length = min(Int(c.addr_len), Int(BW_SOCKADDR_ROOM))
            let addr = withUnsafeBytes(of: c.addr) { Array($0.prefix(length)) }
            let unreadable = c.addr_flags & UInt16(BW_STR_FAULT | BW_STR_ABSENT) != 0
            return Event(header: header, detail: .connect(ConnectDetail(
                result: c.ret, fd: c.fd,
                address: unreadable ? .unreadable : SocketAddress(bytes: addr[...]),
                addressLength: c.addrlen, addressTruncated: c.addr_flags & UInt16(BW_STR_TRUNCATED) != 0,
                socketType: c.sock_type, protocolNumber: c.protocol)))
        case .fork:
            let f = reader.body(bw_fork())
            return Event(header: header, detail: .fork(childPid: Int32(bitPattern: f.child_pid)))
        case .cgroupCreated, .cgroupRemoved:
            let g = reader.body(bw_cgroup())
            return Event(header: header, detail: .cgroup(CgroupChange(
                id: CgroupID(g.id), hierarchy: g.hierarchy, level: g.level,
                path: try reader.text(g.path, field: "path"))))
        }
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Event {
        // typed throws do not pass through withUnsafeBytes' rethrows; carry the result out
        let result: Result<Event, DecodeError> = bytes.withUnsafeBytes { raw in
            do throws(DecodeError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// A version-1 exec's fields in the current struct (no exe: absent).
    static func upgrade(_ o: bw_exec_v1) -> bw_exec {
        var e = bw_exec()
        e.ret = o.ret; e.dirfd = o.dirfd; e.at_flags = o.at_flags; e.argc = o.argc
        e.syscall = o.syscall; e.exec_flags = o.exec_flags
        e.filename = o.filename; e.argv = o.argv
        return e
    }

    /// A version-1 open's fields in the current struct (no dir: absent).
    static func upgrade(_ o: bw_open_v1) -> bw_open {
        var e = bw_open()
        e.ret = o.ret; e.dirfd = o.dirfd; e.flags = o.flags; e.mode = o.mode
        e.syscall = o.syscall; e.resolve = o.resolve; e.path = o.path
        return e
    }

    /// Bytes before a kind's variable part: strings may not start inside it.
    static func fixedSize(of kind: EventKind, version: UInt16 = wireVersion) -> Int {
        switch kind {
        case .exec where version == 1: return MemoryLayout<bw_exec_v1>.offset(of: \bw_exec_v1.data)!
        case .open where version == 1: return MemoryLayout<bw_open_v1>.offset(of: \bw_open_v1.data)!
        case .exec: return MemoryLayout<bw_exec>.offset(of: \bw_exec.data)!
        case .open: return MemoryLayout<bw_open>.offset(of: \bw_open.data)!
        case .connect: return MemoryLayout<bw_connect>.offset(of: \bw_connect.data)!
        case .cgroupCreated, .cgroupRemoved: return MemoryLayout<bw_cgroup>.offset(of: \bw_cgroup.data)!
        case .fork: return MemoryLayout<bw_fork>.size
        }
    }

    static func splitArgs<C: BidirectionalCollection>(_ bytes: C) -> [String] where C.Element == UInt8 {
        if bytes.isEmpty { return [] }
        var args = bytes.split(separator: 0, omittingEmptySubsequences: false)
            .map { decodeBytes($0).text }
        if bytes.last == 0 { args.removeLast() }  // the NUL ending the last argument
        return args
    }

    /// Bounds-checked access to one record's bytes.
    struct Reader {
        let raw: UnsafeRawBufferPointer
        let fixedEnd: Int

        /// The record's fixed part as the C struct; bytes past the record's
        /// end (a producer that packs strings tighter) read as zero.
        func body<T: BitwiseCopyable>(_ zero: T) -> T {
            var value = zero
            withUnsafeMutableBytes(of: &value) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix(dst.count)))
            }
            return value
        }

        /// The string's bytes, bounds-checked, without a copy.
        func bytes(_ s: bw_str, field: String) throws(DecodeError) -> Slice<UnsafeRawBufferPointer> {
            let off = Int(s.off), len = Int(s.len)
            if len == 0 { return raw[0..<0] }
            guard off >= fixedEnd, off + len <= raw.count else {
                throw .stringOutOfBounds(field: field, offset: off, length: len, recordSize: raw.count)
            }
            return raw[off..<(off + len)]
        }

        /// A string walked in the kernel: nil when absent (no walk was made).
        func walked(_ s: bw_str, field: String) throws(DecodeError) -> WireText? {
            if s.flags & UInt16(BW_STR_ABSENT) != 0 { return nil }
            return try text(s, field: field)
        }

        func text(_ s: bw_str, field: String) throws(DecodeError) -> WireText {
            let b = try bytes(s, field: field)
            // a kernel string stops at its NUL; len never counts one, but be strict
            let (value, invalid) = decodeBytes(b.prefix { $0 != 0 })
            var text = WireText(value, truncated: s.flags & UInt16(BW_STR_TRUNCATED) != 0,
                                fault: s.flags & UInt16(BW_STR_FAULT) != 0,
                                absent: s.flags & UInt16(BW_STR_ABSENT) != 0)
            text.invalidUTF8 = invalid
            return text
        }
    }
}

/// No byte has its high bit set: eight at a time, then the tail.
func isASCII(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let p = u.baseAddress else { return true }
    var i = 0
    while i + 8 <= u.count {
        if UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
        i += 8
    }
    while i < u.count {
        if p[i] >= 0x80 { return false }
        i += 1
    }
    return true
}

func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { decodeBytes($0.prefix { $0 != 0 }).text }
}

/// Bytes from the kernel as text. Linux names are bytes, not UTF-8: a byte
/// that is not part of a valid UTF-8 sequence becomes the four characters
/// `\xNN` (and `invalid` is set), so two different names never print alike,
/// as they would if both became U+FFFD.
func decodeBytes<C: Collection>(_ bytes: C) -> (text: String, invalid: Bool) where C.Element == UInt8 {
    // ASCII (nearly every name the kernel reports): one copy, no UTF-8 parse
    if let ascii: String = bytes.withContiguousStorageIfAvailable({ u in
        isASCII(u) ? String(decoding: u, as: UTF8.self) : nil
    }) ?? nil {
        return (ascii, false)
    }
    if let valid = String(validating: bytes, as: UTF8.self) { return (valid, false) }
    let b = Array(bytes)
    var out = String.UnicodeScalarView()
    var i = 0
    while i < b.count {
        let lead = b[i]
        let (n, minValue): (Int, UInt32) = lead < 0x80 ? (1, 0) : lead >> 5 == 0b110 ? (2, 0x80)
            : lead >> 4 == 0b1110 ? (3, 0x800) : lead >> 3 == 0b11110 ? (4, 0x10000) : (0, 0)
        if n > 0, i + n <= b.count, b[(i + 1)..<(i + n)].allSatisfy({ $0 >> 6 == 0b10 }) {
            var v = n == 1 ? UInt32(lead) : UInt32(lead) & (0x7f >> n)
            for k in 1..<max(n, 1) { v = v << 6 | UInt32(b[i + k] & 0x3f) }
            if v >= minValue, let scalar = Unicode.Scalar(v) {
                out.append(scalar)
                i += n
                continue
            }
        }
        for u in "\\x\(pad(Int(lead), 2, radix: 16))".unicodeScalars { out.append(u) }
        i += 1
    }
    return (String(out), true)
}

extension EventKind {
    init?(wire: UInt16) {
        switch Int(wire) {
        case Int(BW_KIND_EXEC.rawValue): self = .exec
        case Int(BW_KIND_OPEN.rawValue): self = .open
        case Int(BW_KIND_CONNECT.rawValue): self = .connect
        case Int(BW_KIND_CGROUP_MKDIR.rawValue): self = .cgroupCreated
        case Int(BW_KIND_CGROUP_RMDIR.rawValue): self = .cgroupRemoved
        case Int(BW_KIND_FORK.rawValue): self = .fork
        default: return nil
        }
    }

    /// The wire's `enum bw_kind` value.
    public var wireValue: UInt16 {
        switch self {
        case .exec: return UInt16(BW_KIND_EXEC.rawValue)
        case .open: return UInt16(BW_KIND_OPEN.rawValue)
        case .connect: return UInt16(BW_KIND_CONNECT.rawValue)
        case .cgroupCreated: return UInt16(BW_KIND_CGROUP_MKDIR.rawValue)
        case .cgroupRemoved: return UInt16(BW_KIND_CGROUP_RMDIR.rawValue)
        case .fork: return UInt16(BW_KIND_FORK.rawValue)
        }
    }
}
