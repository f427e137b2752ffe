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

/// Live and recently exited containers (exited ones are kept up to a limit).
public final class ContainerRegistry {
    public private(set) var containers: [ContainerID: ContainerState] = [:]
    private var exitedOrder: [ContainerID] = []
    public let exitedLimit: Int

    public init(exitedLimit: Int = 4096) { self.exitedLimit = exitedLimit }

    /// A cgroup that attributes to `info` was created at `time`.
    func cgroupCreated(_ id: CgroupID, _ info: ContainerInfo, at time: UInt64) -> LifecycleChange? {
        if var existing = containers[info.id], existing.removed == nil {
            existing.cgroups.insert(id)
            containers[info.id] = existing
            return nil
        }
        var s = ContainerState(info: info, created: time)
        s.cgroups = [id]
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
        if var s = containers[info.id] {
            if s.firstSeen == nil { s.firstSeen = time }
            s.events[kind, default: 0] += 1
            containers[info.id] = s
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
