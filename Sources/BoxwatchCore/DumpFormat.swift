/// The boxwatch dump format (docs/dump-format.md): a preamble, then
/// self-delimiting blocks `type u32 | length u32 | body | length u32`.
/// Raw ring records are stored verbatim, so a replay decodes exactly what the
/// live sensor read. Readers skip block types and header fields they do not
/// know; a cut or corrupt file reads up to its last whole block.

public enum DumpFormat {
    /// "BWDUMP\r\n": the CR LF catches text-mode mangling.
    public static let magic: [UInt8] = Array("BWDUMP\r\n".utf8)
    /// Written little-endian; read back as 0x04030201 on a byte-swapped file.
    public static let byteOrderMark: UInt32 = 0x0102_0304
    public static let version: UInt16 = 1
    public static let preambleSize = 16
    /// Bodies above this are corrupt lengths, not data.
    public static let maxBodySize = 16 << 20
    public static let blockOverhead = 12

    public enum BlockType: UInt32 {
        case header = 1, cgroups = 2, processes = 3, record = 4, stats = 5, clock = 6, end = 7, metadata = 8, scoring = 9
    }

    /// Header field tags (append-only: a reader skips tags it does not know).
    public enum Tag: UInt16 {
        case kernelRelease = 1, architecture = 2, btfIdentity = 3, objectHash = 4, wireVersion = 5
        case clockOffset = 6, cpuCount = 7, ringSize = 8, cgroupMode = 9, hostname = 10
        case captureStart = 11, boxwatchVersion = 12
    }
}

/// What the capturing host and sensor were.
public struct DumpHeader: Sendable, Equatable {
    public var kernelRelease = ""
    public var architecture = ""
    /// FNV-1a 64 of the kernel's BTF (/sys/kernel/btf/vmlinux), and its size.
    public var btfHash: UInt64 = 0
    public var btfSize: UInt64 = 0
    /// FNV-1a 64 of the BPF object file that produced the records.
    public var objectHash: UInt64 = 0
    public var wireVersion: UInt16 = RecordDecoder.wireVersion
    /// realtime - boottime at the start (later changes come as clock blocks).
    public var clockOffsetNanos: Int64 = 0
    public var cpuCount: UInt32 = 0
    public var ringSize: UInt32 = 0
    /// "v2", "v1" or "hybrid".
    public var cgroupMode = ""
    public var hostname = ""
    public var captureStartUnixNanos: Int64 = 0
    public var boxwatchVersion = ""

    public init() {}
}

public struct ProcessSnapshot: Sendable, Equatable {
    public var pid: Int32
    public var ppid: Int32
    public var cgroup: CgroupID
    public var comm: String
    public var executable: String

    public init(pid: Int32, ppid: Int32, cgroup: CgroupID, comm: String, executable: String) {
        self.pid = pid; self.ppid = ppid; self.cgroup = cgroup; self.comm = comm; self.executable = executable
    }
}

/// Cumulative kernel counters at a moment (summed over CPUs).
public struct DumpStats: Sendable, Equatable {
    public var unixNanos: Int64
    public var kinds: [KindStats]

    public struct KindStats: Sendable, Equatable {
        public var kind: UInt16
        public var seen: UInt64
        public var submitted: UInt64
        public var dropped: UInt64
        public init(kind: UInt16, seen: UInt64, submitted: UInt64, dropped: UInt64) {
            self.kind = kind; self.seen = seen; self.submitted = submitted; self.dropped = dropped
        }
    }

    public init(unixNanos: Int64, kinds: [KindStats]) {
        self.unixNanos = unixNanos
        self.kinds = kinds
    }
}

public enum DumpBlock: Sendable, Equatable {
    case header(DumpHeader)
    case cgroups([(id: CgroupID, path: String)])
    case processes([ProcessSnapshot])
    /// A raw ring record and when user space read it (Unix ns).
    case record(arrivalUnixNanos: Int64, bytes: [UInt8])
    case stats(DumpStats)
    /// The realtime - boottime offset from here on.
    case clock(offsetNanos: Int64)
    case end(stopUnixNanos: Int64, records: UInt64)
    /// A runtime's description of a container, from this point on.
    case metadata(ContainerID, ContainerMetadata)
    /// The scoring configuration in force from here on (and, at the start,
    /// the baselines the run began with), so a replay scores as the run did.
    case scoring(ScoringSources)
    /// A block type this reader does not know (skipped).
    case unknown(type: UInt32, length: Int)

    public static func == (a: DumpBlock, b: DumpBlock) -> Bool {
        switch (a, b) {
        case (.header(let x), .header(let y)): return x == y
        case (.cgroups(let x), .cgroups(let y)): return x.map(\.id) == y.map(\.id) && x.map(\.path) == y.map(\.path)
        case (.processes(let x), .processes(let y)): return x == y
        case (.record(let t1, let b1), .record(let t2, let b2)): return t1 == t2 && b1 == b2
        case (.stats(let x), .stats(let y)): return x == y
        case (.clock(let x), .clock(let y)): return x == y
        case (.end(let t1, let n1), .end(let t2, let n2)): return t1 == t2 && n1 == n2
        case (.unknown(let t1, let l1), .unknown(let t2, let l2)): return t1 == t2 && l1 == l2
        case (.metadata(let i1, let m1), .metadata(let i2, let m2)): return i1 == i2 && m1 == m2
        case (.scoring(let x), .scoring(let y)): return x == y
        default: return false
        }
    }
}

/// Why a dump cannot be read further. Offsets count from the file's start.
public enum DumpError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooShortForPreamble(size: Int)
    case badMagic
    case byteSwapped
    case unsupportedVersion(found: UInt16, supported: UInt16)
    case truncatedBlock(offset: Int, needed: Int, available: Int)
    case lengthMismatch(offset: Int, leading: Int, trailing: Int)
    case blockTooLarge(offset: Int, length: Int)
    case emptyBody(offset: Int, type: UInt32)
    case malformedBody(offset: Int, type: UInt32, reason: String)
    case headerNotFirst(offset: Int)
    case blockAfterEnd(offset: Int, type: UInt32)
    case secondHeader(offset: Int)
    case recordCountMismatch(offset: Int, declared: UInt64, read: UInt64)
    case invalidBlockType(offset: Int)
    case leftoverBytes(offset: Int, type: UInt32, count: Int)
    case badReserved(value: UInt16)
    case readFailed(offset: Int, errno: Int32)

    public var description: String {
        switch self {
        case .tooShortForPreamble(let n): return "offset \(n): the file ends inside the 16-byte dump preamble"
        case .badMagic: return "offset 0: not a boxwatch dump (bad magic)"
        case .byteSwapped: return "offset 8: byte-order mark is swapped: a dump from a big-endian host is not supported"
        case .unsupportedVersion(let f, let s):
            return f == 0 ? "offset 12: dump format version 0 is not valid"
                          : "offset 12: dump format version \(f) is newer than this reader's \(s)"
        case .badReserved(let v): return "offset 14: reserved preamble field is \(v), not 0"
        case .truncatedBlock(let off, let need, let have):
            return "offset \(off): block cut short (needs \(need) bytes, \(have) remain): the file ends mid-block"
        case .lengthMismatch(let off, let a, let b):
            return "offset \(off): block length \(a) does not match its trailing length \(b)"
        case .blockTooLarge(let off, let n): return "offset \(off): block length \(n) is larger than any valid block"
        case .emptyBody(let off, let t): return "offset \(off): block of type \(t) has an empty body"
        case .malformedBody(let off, let t, let why): return "offset \(off): block of type \(t) is malformed: \(why)"
        case .headerNotFirst(let off): return "offset \(off): the first block is not the dump header"
        case .blockAfterEnd(let off, let t): return "offset \(off): block of type \(t) after the end block"
        case .secondHeader(let off): return "offset \(off): a second header block"
        case .recordCountMismatch(let off, let declared, let read):
            return "offset \(off): the end block counts \(declared) records but \(read) were read: records are missing or added"
        case .invalidBlockType(let off): return "offset \(off): block type 0 is not valid"
        case .leftoverBytes(let off, let t, let n): return "offset \(off): block of type \(t) has \(n) bytes past its fields"
        case .readFailed(let off, let e): return "offset \(off): reading the file failed (errno \(e))"
        }
    }
}

/// FNV-1a, 64 bit: a cheap identity for the BTF and the BPF object.
public struct FNV1a64 {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public init() {}
    public mutating func update<C: Sequence>(_ bytes: C) where C.Element == UInt8 {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }
}
