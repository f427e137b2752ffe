/// Containers as they come and go, derived from the kernel's cgroup records:
/// a container starts with the first cgroup that names it and exits when its
/// last cgroup is removed. Because the records are in the stream (and in
/// dumps), replay reproduces the same lifecycle lines.

public struct ContainerState: Sendable, Equatable {
    public var info: ContainerInfo
    /// Boot-clock time of the cgroup's creation (nil: it existed before we started).
    public var created: UInt64?
    /// Boot-clock time of the first event from inside it.
    public var firstSeen: UInt64?
    public var removed: UInt64?
    public var cgroups: Set<CgroupID> = []
    public var events: [EventKind: Int] = [:]
    /// Who made its cgroup, then that process's parents ("runc[812]",
    /// "containerd-shim[790]", ... up to the user's shell or CI runner).
    public var launchedBy: [String] = []

    /// Creation to removal, in milliseconds (nil while running or when the
    /// creation was not seen).
    public var lifetimeMillis: Double? {
        guard let c = created, let r = removed, r >= c else { return nil }
        return Double(r - c) / 1e6
    }
}

public enum LifecycleChange: Sendable, Equatable {
    case started(ContainerState, at: UInt64)
    case exited(ContainerState, at: UInt64)

    public var state: ContainerState {
        switch self { case .started(let s, _), .exited(let s, _): return s }
    }
}

/// pid -> parent and name, from the start-up snapshot, every exec and every
/// cgroup record: enough to name the chain that launched a container.
public final class ProcessTable {
    private var entries: [Int32: (ppid: Int32, comm: String)] = [:]
    private let limit: Int

    public init(limit: Int = 65536) { self.limit = limit }

    public func note(pid: Int32, ppid: Int32, comm: String) {
        if entries.count >= limit && entries[pid] == nil { entries.removeAll(keepingCapacity: true) }
        entries[pid] = (ppid, comm)
    }

    /// "comm[pid]" from `pid` up its parents (at most 12, stopping at pid 1).
    public func lineage(from pid: Int32, comm: String, ppid: Int32) -> [String] {
        var chain = ["\(comm)[\(pid)]"]
        var next = ppid
        var seen: Set<Int32> = [pid]
        while next > 1, chain.count < 12, seen.insert(next).inserted, let e = entries[next] {
            chain.append("\(e.comm)[\(next)]")
            next = e.ppid
        }
        return chain
    }
}

/// Live and recently exited containers (exited ones are kept up to a limit).
public final class ContainerRegistry {
    public private(set) var containers: [ContainerID: ContainerState] = [:]
    private var exitedOrder: [ContainerID] = []
    public let exitedLimit: Int

    public init(exitedLimit: Int = 4096) { self.exitedLimit = exitedLimit }

    /// A cgroup that attributes to `info` was created at `time`.
    func cgroupCreated(_ id: CgroupID, _ info: ContainerInfo, at time: UInt64, launchedBy: [String] = []) -> LifecycleChange? {
        if var existing = containers[info.id], existing.removed == nil {
            existing.cgroups.insert(id)
            containers[info.id] = existing
            return nil
        }
        var s = ContainerState(info: info, created: time)
        s.cgroups = [id]
        s.launchedBy = launchedBy
        containers[info.id] = s
        return .started(s, at: time)
    }

    /// A cgroup of the container was removed; the last one ends it.
    func cgroupRemoved(_ id: CgroupID, container: ContainerID, at time: UInt64) -> LifecycleChange? {
        guard var s = containers[container], s.removed == nil, s.cgroups.contains(id) else { return nil }
        s.cgroups.remove(id)
        guard s.cgroups.isEmpty else { containers[container] = s; return nil }
        s.removed = time
        containers[container] = s
        exitedOrder.append(container)
        if exitedOrder.count > exitedLimit * 2 {
            let expired = exitedOrder.count - exitedLimit
            for old in exitedOrder.prefix(expired) where containers[old]?.removed != nil { containers[old] = nil }
            exitedOrder.removeFirst(expired)
        }
        return .exited(s, at: time)
    }

    /// Counts an event from inside a container (first seen, events per kind).
    func saw(_ info: ContainerInfo, kind: EventKind, at time: UInt64, cgroup: CgroupID) {
        // in place: copying the state out and back would copy its dictionaries on every event
        if containers[info.id] != nil {
            if containers[info.id]!.firstSeen == nil { containers[info.id]!.firstSeen = time }
            containers[info.id]!.events[kind, default: 0] += 1
        } else {
            // running before the sensor started: no creation time
            var s = ContainerState(info: info, created: nil, firstSeen: time)
            s.cgroups = [cgroup]
            s.events[kind] = 1
            containers[info.id] = s
        }
    }

    func setMetadata(_ m: ContainerMetadata, for id: ContainerID) {
        containers[id]?.info.metadata = m
    }

    /// Containers sorted by first activity: running first, then exited.
    public var listing: [ContainerState] {
        containers.values.sorted {
            ($0.removed == nil ? 0 : 1, $0.created ?? $0.firstSeen ?? 0) < ($1.removed == nil ? 0 : 1, $1.created ?? $1.firstSeen ?? 0)
        }
    }
}

/// `boxwatch containers`: live and recent containers, one per line.
public enum ContainerListing {
    public static func text(_ states: [ContainerState]) -> String {
        var out = "CONTAINER     RUNTIME     STATE    LIFETIME   EXEC   OPEN   CONNECT  NAME / IMAGE\n"
        for s in states {
            let state = s.removed == nil ? "running" : "exited"
            let life = s.lifetimeMillis.map { "\(Int($0.rounded())) ms" } ?? "-"
            let who = s.info.metadata.map { "\($0.name) \($0.image)" } ?? s.info.cgroupPath
            out += pad(s.info.id.short, 13) + " " + pad(s.info.runtime.rawValue, 11) + " " + pad(state, 8) + " "
                + pad(life, 10) + " " + pad(String(s.events[.exec] ?? 0), 6) + " " + pad(String(s.events[.open] ?? 0), 6) + " "
                + pad(String(s.events[.connect] ?? 0), 8) + " " + TextFormatter.quote(who) + "\n"
        }
        return out
    }

    public static func json(_ states: [ContainerState]) -> String {
        var out = ""
        for s in states {
            var j = JSONWriter()
            j.object { j in
                ECSFormatter.container(s.info, into: &j)
                j.object("boxwatch") { j in
                    j.field("state", s.removed == nil ? "running" : "exited")
                    j.field("cgroup_path", s.info.cgroupPath)
                    j.field("qos", s.info.qos?.rawValue)
                    j.field("created_ktime_ns", s.created)
                    j.field("removed_ktime_ns", s.removed)
                    if let ms = s.lifetimeMillis { j.field("lifetime_ms", Int64(ms.rounded())) }
                    j.object("events") { j in
                        for k in [EventKind.exec, .open, .connect] { j.field(named: k.rawValue, s.events[k] ?? 0) }
                    }
                }
            }
            out += j.text + "\n"
        }
        return out
    }

    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }
}
