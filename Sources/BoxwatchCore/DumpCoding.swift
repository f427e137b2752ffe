/// Encoding and decoding of dump blocks. Pure: bytes in, bytes out.

/// Appends little-endian values to a byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func int<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func string16(_ s: String) {
        let u = Array(s.utf8.prefix(Int(UInt16.max)))
        int(UInt16(u.count))
        bytes.append(contentsOf: u)
    }
    mutating func string32(_ s: String) {
        int(UInt32(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }
}

/// Reads little-endian values from a block body; every read is bounds-checked.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var pos: Int
    let what: (String) -> DumpError

    init(_ bytes: ArraySlice<UInt8>, error: @escaping (String) -> DumpError) {
        self.bytes = bytes
        pos = bytes.startIndex
        what = error
    }

    var remaining: Int { bytes.endIndex - pos }

    mutating func int<T: FixedWidthInteger>(_: T.Type = T.self, _ field: String) throws(DumpError) -> T {
        let n = T.bitWidth / 8
        guard remaining >= n else { throw what("\(field) needs \(n) bytes, \(remaining) remain") }
        var v: T = 0
        for i in 0..<n { v |= T(truncatingIfNeeded: bytes[pos + i]) << (8 * i) }
        pos += n
        return v
    }

    mutating func take(_ n: Int, _ field: String) throws(DumpError) -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else { throw what("\(field) needs \(n) bytes, \(remaining) remain") }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    mutating func string16(_ field: String) throws(DumpError) -> String {
        let n = Int(try int(UInt16.self, field + " length"))
        return decodeBytes(try take(n, field)).text
    }
    mutating func string32(_ field: String) throws(DumpError) -> String {
        let n = Int(try int(UInt32.self, field + " length"))
        return decodeBytes(try take(n, field)).text
    }
}

public enum DumpEncoder {
    public static func preamble() -> [UInt8] {
        var w = ByteWriter()
        w.bytes = DumpFormat.magic
        w.int(DumpFormat.byteOrderMark)
        w.int(DumpFormat.version)
        w.int(UInt16(0))
        return w.bytes
    }

    public static func block(_ type: DumpFormat.BlockType, _ body: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.bytes.reserveCapacity(body.count + DumpFormat.blockOverhead)
        w.int(type.rawValue)
        w.int(UInt32(body.count))
        w.bytes.append(contentsOf: body)
        w.int(UInt32(body.count))
        return w.bytes
    }

    public static func header(_ h: DumpHeader) -> [UInt8] {
        var w = ByteWriter()
        func field(_ tag: DumpFormat.Tag, _ body: (inout ByteWriter) -> Void) {
            var f = ByteWriter()
            body(&f)
            w.int(tag.rawValue)
            w.int(UInt32(f.bytes.count))
            w.bytes.append(contentsOf: f.bytes)
        }
        func text(_ tag: DumpFormat.Tag, _ s: String) { field(tag) { $0.bytes.append(contentsOf: s.utf8) } }
        text(.kernelRelease, h.kernelRelease)
        text(.architecture, h.architecture)
        field(.btfIdentity) { $0.int(h.btfHash); $0.int(h.btfSize) }
        field(.objectHash) { $0.int(h.objectHash) }
        field(.wireVersion) { $0.int(h.wireVersion) }
        field(.clockOffset) { $0.int(h.clockOffsetNanos) }
        field(.cpuCount) { $0.int(h.cpuCount) }
        field(.ringSize) { $0.int(h.ringSize) }
        text(.cgroupMode, h.cgroupMode)
        text(.hostname, h.hostname)
        field(.captureStart) { $0.int(h.captureStartUnixNanos) }
        text(.boxwatchVersion, h.boxwatchVersion)
        return block(.header, w.bytes)
    }

    public static func cgroups(_ list: [(id: CgroupID, path: String)]) -> [UInt8] {
        var w = ByteWriter()
        w.int(UInt32(list.count))
        for (id, path) in list { w.int(id.rawValue); w.string16(path) }
        return block(.cgroups, w.bytes)
    }

    public static func processes(_ list: [ProcessSnapshot]) -> [UInt8] {
        var w = ByteWriter()
        w.int(UInt32(list.count))
        for p in list {
            w.int(p.pid); w.int(p.ppid); w.int(p.cgroup.rawValue)
            w.string16(p.comm); w.string16(p.executable)
        }
        return block(.processes, w.bytes)
    }

    public static func record(arrivalUnixNanos: Int64, _ raw: UnsafeRawBufferPointer) -> [UInt8] {
        var w = ByteWriter()
        w.bytes.reserveCapacity(raw.count + 8 + DumpFormat.blockOverhead)
        w.int(DumpFormat.BlockType.record.rawValue)
        w.int(UInt32(raw.count + 8))
        w.int(arrivalUnixNanos)
        w.bytes.append(contentsOf: raw)
        w.int(UInt32(raw.count + 8))
        return w.bytes
    }

    public static func stats(_ s: DumpStats) -> [UInt8] {
        var w = ByteWriter()
        w.int(s.unixNanos)
        w.int(UInt32(s.kinds.count))
        for k in s.kinds { w.int(k.kind); w.int(k.seen); w.int(k.submitted); w.int(k.dropped) }
        return block(.stats, w.bytes)
    }

    public static func clock(offsetNanos: Int64) -> [UInt8] {
        var w = ByteWriter()
        w.int(offsetNanos)
        return block(.clock, w.bytes)
    }

    public static func metadata(_ id: ContainerID, _ m: ContainerMetadata) -> [UInt8] {
        var w = ByteWriter()
        w.string16(id.rawValue)
        w.string16(m.name)
        w.string16(m.image)
        let labels = m.labels.sorted { $0.key < $1.key }.prefix(Int(UInt16.max))
        w.int(UInt16(labels.count))
        for (k, v) in labels { w.string16(k); w.string16(v) }
        w.int(UInt16((m.autoRemove ? 1 : 0) | (m.detached ? 2 : 0)))  // launch flags (added later: optional)
        return block(.metadata, w.bytes)
    }

    /// The scoring sources; the baselines are left out (and a replay says
    /// so) when they would not fit one block.
    public static func scoring(_ src: ScoringSources) -> [UInt8] {
        func encode(_ src: ScoringSources) -> [UInt8] {
            var w = ByteWriter()
            w.int(UInt8((src.config != nil ? 1 : 0) | (src.baselines != nil ? 2 : 0) | (src.learningMode ? 4 : 0)
                        | (src.atStart ? 8 : 0) | (src.baselinesOmitted ? 16 : 0)))
            if let c = src.config { w.string32(c.name); w.string32(c.text) }
            w.int(UInt32(src.iocs.count))
            for f in src.iocs { w.string32(f.name); w.string32(f.text) }
            if let b = src.baselines { w.string32(b) }
            return w.bytes
        }
        var body = encode(src)
        if body.count > DumpFormat.maxBodySize, src.baselines != nil {
            var lean = src
            lean.baselines = nil
            lean.baselinesOmitted = true
            body = encode(lean)
        }
        return block(.scoring, body)
    }

    public static func end(stopUnixNanos: Int64, records: UInt64) -> [UInt8] {
        var w = ByteWriter()
        w.int(stopUnixNanos)
        w.int(records)
        return block(.end, w.bytes)
    }
}

/// Parses a dump incrementally: feed bytes as they are read, take blocks out.
/// Never traps and never loops on bad input; the first error is final.
public struct DumpParser {
    private var buffer: [UInt8] = []
    private var start = 0            // first unparsed byte in buffer
    /// File offset of buffer[start].
    public private(set) var offset = 0
    private var sawPreamble = false
    private var sawHeader = false
    private var sawEnd = false
    /// Record blocks since the last header (what the end block must count).
    public private(set) var recordsRead: UInt64 = 0

    public init() {}

    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {  // compact now and then, not per block
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes fed but not yet parsed.
    public var pending: Int { buffer.count - start }

    /// The next whole block, nil if more bytes are needed.
    public mutating func next() throws(DumpError) -> DumpBlock? {
        if !sawPreamble {
            guard pending >= DumpFormat.preambleSize else { return nil }
            let p = buffer[start..<(start + DumpFormat.preambleSize)]
            guard Array(p.prefix(8)) == DumpFormat.magic else { throw .badMagic }
            var r = ByteReader(p.dropFirst(8)) { _ in .badMagic }
            let bom = try r.int(UInt32.self, "byte-order mark")
            if bom == DumpFormat.byteOrderMark.byteSwapped { throw .byteSwapped }
            guard bom == DumpFormat.byteOrderMark else { throw .badMagic }
            let version = try r.int(UInt16.self, "version")
            guard version <= DumpFormat.version, version > 0 else {
                throw .unsupportedVersion(found: version, supported: DumpFormat.version)
            }
            let reserved = try r.int(UInt16.self, "reserved")
            guard reserved == 0 else { throw .badReserved(value: reserved) }
            consume(DumpFormat.preambleSize)
            sawPreamble = true
        }
        guard pending >= 8 else { return nil }
        let blockOffset = offset
        var r = ByteReader(buffer[start..<(start + 8)]) { _ in .truncatedBlock(offset: blockOffset, needed: 8, available: 0) }
        let type = try r.int(UInt32.self, "type")
        let length = Int(try r.int(UInt32.self, "length"))
        guard length <= DumpFormat.maxBodySize else { throw .blockTooLarge(offset: blockOffset, length: length) }
        let total = length + DumpFormat.blockOverhead
        guard pending >= total else { return nil }
        var t = ByteReader(buffer[(start + 8 + length)..<(start + total)]) { _ in .badMagic }
        let trailing = Int(try t.int(UInt32.self, "trailing length"))
        guard trailing == length else { throw .lengthMismatch(offset: blockOffset, leading: length, trailing: trailing) }
        let body = buffer[(start + 8)..<(start + 8 + length)]
        if type == 0 { throw .invalidBlockType(offset: blockOffset) }
        if sawEnd { throw .blockAfterEnd(offset: blockOffset, type: type) }
        let block = try Self.decode(type: type, body: body, offset: blockOffset)
        switch block {
        case .header:
            if sawHeader { throw .secondHeader(offset: blockOffset) }
            sawHeader = true
        case _ where !sawHeader:
            throw .headerNotFirst(offset: blockOffset)
        case .record:
            recordsRead += 1
        case .end(_, let declared):
            guard declared == recordsRead else {
                throw .recordCountMismatch(offset: blockOffset, declared: declared, read: recordsRead)
            }
            sawEnd = true
        default:
            break
        }
        consume(total)
        return block
    }

    /// Call at the end of the file: an error if bytes of a partial block remain.
    public func finish() throws(DumpError) {
        if !sawPreamble {
            let n = min(pending, DumpFormat.magic.count)
            if !buffer[start..<(start + n)].elementsEqual(DumpFormat.magic.prefix(n)) { throw .badMagic }
            throw .tooShortForPreamble(size: pending)
        }
        if pending > 0 {
            var needed = 8
            if pending >= 8 {
                let b = buffer[(start + 4)..<(start + 8)]
                needed = Int(UInt32(b[b.startIndex]) | UInt32(b[b.startIndex + 1]) << 8
                             | UInt32(b[b.startIndex + 2]) << 16 | UInt32(b[b.startIndex + 3]) << 24) + DumpFormat.blockOverhead
            }
            throw .truncatedBlock(offset: offset, needed: needed, available: pending)
        }
    }

    private mutating func consume(_ n: Int) {
        start += n
        offset += n
    }

    static func decode(type: UInt32, body: ArraySlice<UInt8>, offset: Int) throws(DumpError) -> DumpBlock {
        guard let known = DumpFormat.BlockType(rawValue: type) else { return .unknown(type: type, length: body.count) }
        if body.isEmpty { throw .emptyBody(offset: offset, type: type) }
        var r = ByteReader(body) { .malformedBody(offset: offset, type: type, reason: $0) }
        let block: DumpBlock
        switch known {
        case .header:
            var h = DumpHeader()
            while r.remaining > 0 {
                let tag = try r.int(UInt16.self, "field tag")
                let n = Int(try r.int(UInt32.self, "field length"))
                var f = ByteReader(try r.take(n, "field \(tag)")) { .malformedBody(offset: offset, type: type, reason: $0) }
                func text() throws(DumpError) -> String { decodeBytes(try f.take(f.remaining, "field \(tag)")).text }
                switch DumpFormat.Tag(rawValue: tag) {
                case .kernelRelease: h.kernelRelease = try text()
                case .architecture: h.architecture = try text()
                case .btfIdentity: h.btfHash = try f.int(UInt64.self, "btf hash"); h.btfSize = try f.int(UInt64.self, "btf size")
                case .objectHash: h.objectHash = try f.int(UInt64.self, "object hash")
                case .wireVersion: h.wireVersion = try f.int(UInt16.self, "wire version")
                case .clockOffset: h.clockOffsetNanos = try f.int(Int64.self, "clock offset")
                case .cpuCount: h.cpuCount = try f.int(UInt32.self, "cpu count")
                case .ringSize: h.ringSize = try f.int(UInt32.self, "ring size")
                case .cgroupMode: h.cgroupMode = try text()
                case .hostname: h.hostname = try text()
                case .captureStart: h.captureStartUnixNanos = try f.int(Int64.self, "capture start")
                case .boxwatchVersion: h.boxwatchVersion = try text()
                case nil: break  // a newer writer's field: skipped
                }
            }
            block = .header(h)
        case .cgroups:
            let n = Int(try r.int(UInt32.self, "cgroup count"))
            guard n <= r.remaining / 10 else { throw .malformedBody(offset: offset, type: type, reason: "cgroup count \(n) does not fit the block") }
            var list: [(id: CgroupID, path: String)] = []
            list.reserveCapacity(n)
            for _ in 0..<n { list.append((CgroupID(try r.int(UInt64.self, "cgroup id")), try r.string16("cgroup path"))) }
            block = .cgroups(list)
        case .processes:
            let n = Int(try r.int(UInt32.self, "process count"))
            guard n <= r.remaining / 20 else { throw .malformedBody(offset: offset, type: type, reason: "process count \(n) does not fit the block") }
            var list: [ProcessSnapshot] = []
            list.reserveCapacity(n)
            for _ in 0..<n {
                list.append(ProcessSnapshot(pid: try r.int(Int32.self, "pid"), ppid: try r.int(Int32.self, "ppid"),
                                            cgroup: CgroupID(try r.int(UInt64.self, "cgroup")),
                                            comm: try r.string16("comm"), executable: try r.string16("exe")))
            }
            block = .processes(list)
        case .record:
            let arrival = try r.int(Int64.self, "arrival time")
            block = .record(arrivalUnixNanos: arrival, bytes: Array(try r.take(r.remaining, "record")))
        case .stats:
            let t = try r.int(Int64.self, "time")
            let n = Int(try r.int(UInt32.self, "kind count"))
            guard n <= r.remaining / 26 else { throw .malformedBody(offset: offset, type: type, reason: "kind count \(n) does not fit the block") }
            var kinds: [DumpStats.KindStats] = []
            for _ in 0..<n {
                kinds.append(.init(kind: try r.int(UInt16.self, "kind"), seen: try r.int(UInt64.self, "seen"),
                                   submitted: try r.int(UInt64.self, "submitted"), dropped: try r.int(UInt64.self, "dropped")))
            }
            block = .stats(DumpStats(unixNanos: t, kinds: kinds))
        case .clock:
            block = .clock(offsetNanos: try r.int(Int64.self, "offset"))
        case .end:
            block = .end(stopUnixNanos: try r.int(Int64.self, "stop time"), records: try r.int(UInt64.self, "record count"))
        case .metadata:
            let id = ContainerID(try r.string16("container id"))
            var m = ContainerMetadata(name: try r.string16("name"), image: try r.string16("image"))
            let n = Int(try r.int(UInt16.self, "label count"))
            for _ in 0..<n { m.labels[try r.string16("label key")] = try r.string16("label value") }
            if r.remaining > 0 {
                let flags = try r.int(UInt16.self, "launch flags")
                m.autoRemove = flags & 1 != 0
                m.detached = flags & 2 != 0
            }
            block = .metadata(id, m)
        case .scoring:
            let flags = try r.int(UInt8.self, "scoring flags")
            var src = ScoringSources()
            if flags & 1 != 0 { src.config = NamedText(name: try r.string32("config name"), text: try r.string32("config")) }
            let n = Int(try r.int(UInt32.self, "IOC file count"))
            guard n <= r.remaining / 8 else { throw .malformedBody(offset: offset, type: type, reason: "IOC file count \(n) does not fit the block") }
            for _ in 0..<n { src.iocs.append(NamedText(name: try r.string32("IOC file name"), text: try r.string32("IOC file"))) }
            if flags & 2 != 0 { src.baselines = try r.string32("baselines") }
            src.learningMode = flags & 4 != 0
            src.atStart = flags & 8 != 0
            src.baselinesOmitted = flags & 16 != 0
            block = .scoring(src)
        }
        // a newer writer appends header fields as tags; other blocks have no room to grow
        if r.remaining > 0, known != .header, known != .record {
            throw .leftoverBytes(offset: offset, type: type, count: r.remaining)
        }
        return block
    }
}
