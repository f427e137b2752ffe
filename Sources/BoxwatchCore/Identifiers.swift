/// Small value types for the kernel's numbers and the names derived from them.

/// A cgroup2 id, as `bpf_get_current_cgroup_id()` returns it (the cgroup
/// directory's inode number in the unified hierarchy).
public struct CgroupID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// The root of the unified hierarchy: where host processes live.
    public static let root = CgroupID(1)
    public var description: String { String(rawValue) }
}

/// A container's ID as its runtime names it: 64 hex digits for Docker,
/// CRI-O and Podman; any name for containerd's `ctr`.
public struct ContainerID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// The 12-character form `docker ps` shows.
    public var short: String { String(rawValue.prefix(12)) }
    public var description: String { rawValue }
}

public enum ContainerRuntime: String, Sendable, CaseIterable {
    case docker, containerd, crio = "cri-o", podman, unknown
}

/// What kind of record an event came from (the wire's `enum bw_kind`).
public enum EventKind: String, Sendable, CaseIterable {
    case exec, open, connect
    case cgroupCreated = "cgroup_mkdir"
    case cgroupRemoved = "cgroup_rmdir"
    case fork
}

/// Which syscall produced the record (the wire's `enum bw_syscall`).
public enum Syscall: UInt16, Sendable {
    case none = 0, execve, execveat, open, openat, openat2, creat, connect

    public var name: String {
        switch self {
        case .none: return "none"
        case .execve: return "execve"
        case .execveat: return "execveat"
        case .open: return "open"
        case .openat: return "openat"
        case .openat2: return "openat2"
        case .creat: return "creat"
        case .connect: return "connect"
        }
    }
}
