/// Decoded ring-buffer records. Field meanings are those of
/// bpf/include/boxwatch_events.h; this file only gives them Swift types.

/// A string from a record's variable part, with what the kernel said about it.
public struct WireText: Sendable, Equatable {
    public var value: String
    /// The source was longer than the room the record gave it.
    public var truncated: Bool
    /// Reading the source failed (the value is empty, not the real string).
    public var fault: Bool
    /// There was no source (a NULL pointer).
    public var absent: Bool
    /// The bytes were not valid UTF-8; `value` spells the bad bytes `\xNN`.
    public var invalidUTF8 = false

    /// The value, or nil when the kernel could not read it (never "" for unknown).
    public var known: String? { fault || absent ? nil : value }

    public init(_ value: String, truncated: Bool = false, fault: Bool = false, absent: Bool = false) {
        self.value = value
        self.truncated = truncated
        self.fault = fault
        self.absent = absent
    }
}

public struct RecordHeader: Sendable, Equatable {
    public var kind: EventKind
    public var version: UInt16
    public var size: Int
    /// Kernel boot-time clock (counts suspend), nanoseconds.
    public var bootTimeNanos: UInt64
    /// Per-CPU sequence; a gap means records were dropped.
    public var sequence: UInt64
    public var cgroup: CgroupID
    public var cpu: UInt32
    public var pid: Int32
    public var tid: Int32
    public var ppid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// pid inside the task's own pid namespace.
    public var namespacePid: Int32
    public var pidNamespace: UInt32
    public var mountNamespace: UInt32
    public var flags: UInt32
    public var comm: String
    /// Leaf name of the task's cgroup2, read in the kernel at the event;
    /// "parent/leaf" of its v1 pids cgroup when `cgroupIsV1`.
    public var cgroupName: WireText

    /// The task sat in the cgroup2 root and `cgroupName` names its cgroup v1
    /// (a hybrid host whose runtime placed the container in v1 only).
    public var cgroupIsV1: Bool { flags & 1 != 0 }
}

public struct ExecDetail: Sendable, Equatable {
    /// 0, or -errno: a failed exec is an attempt.
    public var result: Int32
    public var syscall: Syscall
    public var dirfd: Int32
    public var atFlags: UInt32
    /// The file name as the kernel had it (success) or as passed (failure).
    public var filename: WireText
    public var argv: [String]
    public var argvTruncated: Bool
    public var argvFault: Bool
    /// The true argument count (a lower bound when `argcIsLowerBound`).
    public var argc: UInt32
    public var argcIsLowerBound: Bool
    /// The executable's path walked in the kernel from the file that was run,
    /// as the task sees it (wire version 2, successful execs; nil otherwise).
    /// A fileless exec shows here: "/memfd:name" with `.detached`.
    public var executable: WireText? = nil
    public var executableFlags: PathFlags = []
}

public struct OpenDetail: Sendable, Equatable {
    /// fd, or -errno.
    public var result: Int64
    public var syscall: Syscall
    public var dirfd: Int32
    public var flags: UInt32
    public var mode: UInt32
    /// openat2's RESOLVE_* bits.
    public var resolve: UInt64
    /// The path as passed (relative paths are relative to dirfd).
    public var path: WireText
    /// For a relative path, the directory it starts from (dirfd's, or the
    /// cwd), walked in the kernel at the call's exit, as the task sees it.
    /// Nil for an absolute path and for wire version 1 records; `fault` when
    /// dirfd was not an open file; `truncated` when the walk ran out of room
    /// or steps (then the value is its last components, not absolute).
    public var directory: WireText? = nil
    public var directoryFlags: PathFlags = []

    /// The file's absolute path, normalised lexically (`PathText.normalize`):
    /// the path itself when absolute, else `directory` + "/" + path. Nil when
    /// either part is unknown, cut, or the directory is not one (or for an
    /// empty path). Symlinks are not followed: "/a/link/.." becomes "/a".
    /// A directory outside the task's root (`directoryFlags.outsideRoot`)
    /// gives the path from the top of its own mount tree.
    public var absolutePath: String? {
        guard let p = path.known, !path.truncated, !p.isEmpty else { return nil }
        if p.utf8.first == UInt8(ascii: "/") { return PathText.normalize(p) }
        guard let d = directory, let dir = d.known, !d.truncated, !directoryFlags.contains(.notDirectory),
              dir.utf8.first == UInt8(ascii: "/") else { return nil }
        return PathText.normalize(dir + "/" + p)
    }
}

/// What a path walk in the kernel found (the wire's BW_PATH_* flags).
public struct PathFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// open: dirfd's file is not a directory (the walk gives that file's path).
    public static let notDirectory = PathFlags(rawValue: 0x1)
    /// Removed (unlinked) since: the path is where it was.
    public static let deleted = PathFlags(rawValue: 0x2)
    /// Not under the task's root (a chroot or container escape, or a dirfd
    /// from elsewhere): the path is from the top of its own mount tree.
    public static let outsideRoot = PathFlags(rawValue: 0x4)
    /// No place in any tree (memfd, anonymous files): "/" and its own name.
    public static let detached = PathFlags(rawValue: 0x8)

    /// Names for output: "not_dir", "deleted", "outside_root", "detached".
    public var names: [String] {
        [(PathFlags.notDirectory, "not_dir"), (.deleted, "deleted"), (.outsideRoot, "outside_root"),
         (.detached, "detached")].filter { contains($0.0) }.map(\.1)
    }
}

public struct ConnectDetail: Sendable, Equatable {
    /// 0, -EINPROGRESS, -ECONNREFUSED, ...
    public var result: Int32
    public var fd: Int32
    public var address: SocketAddress
    /// The length the caller passed.
    public var addressLength: UInt32
    public var addressTruncated: Bool
    public var socketType: UInt16
    public var protocolNumber: UInt16
}

public struct CgroupChange: Sendable, Equatable {
    public var id: CgroupID
    /// 0 is cgroup2.
    public var hierarchy: UInt32
    public var level: UInt32
    /// Path from the hierarchy root, e.g. "/docker/<64 hex>".
    public var path: WireText
}

public enum EventDetail: Sendable, Equatable {
    case exec(ExecDetail)
    case open(OpenDetail)
    case connect(ConnectDetail)
    case cgroup(CgroupChange)
    /// A new process; the header's task is its parent.
    case fork(childPid: Int32)
}

/// One decoded record.
public struct Event: Sendable, Equatable {
    public var header: RecordHeader
    public var detail: EventDetail

    public var kind: EventKind { header.kind }

    /// Whether the syscall failed (nil where success has no meaning).
    /// EINPROGRESS is neither: the connection is still being made.
    public var outcome: Outcome {
        if let e = errno, ErrnoName.isRestart(e) { return .interrupted }
        switch detail {
        case .exec(let e): return e.result == 0 ? .success : .failure
        case .open(let o): return o.result >= 0 ? .success : .failure
        case .connect(let c):
            if c.result == 0 { return .success }
            return c.result == -115 ? .pending : .failure
        case .cgroup, .fork: return .success
        }
    }

    /// The errno of a failed call, positive. (Total: a corrupt result such
    /// as Int32.min gives a clamped number, not a trap.)
    public var errno: Int32? {
        let result: Int64
        switch detail {
        case .exec(let e): result = Int64(e.result)
        case .open(let o): result = o.result
        case .connect(let c): result = Int64(c.result)
        case .cgroup, .fork: return nil
        }
        return result < 0 ? Int32(clamping: result.magnitude) : nil
    }
}

public enum Outcome: String, Sendable {
    case success, failure
    /// A non-blocking connect still in progress (EINPROGRESS).
    case pending
    /// A signal interrupted the call (ERESTARTSYS and friends seen at
    /// syscall exit); the kernel may run it again.
    case interrupted
}
