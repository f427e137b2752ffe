/// cgroup id -> path -> container, filled from a scan at start-up and from
/// the kernel's cgroup mkdir/rmdir records, so a container that lived 50 ms
/// is still attributed. Removed cgroups stay as tombstones for late events.
public final class ContainerTable {
    private var paths: [CgroupID: String] = [:]
    private var cache: [CgroupID: Attribution] = [:]
    private var tombstones: [CgroupID] = []
    /// Containers' lifecycles, from the same records.
    public let registry = ContainerRegistry()
    /// Parents and names of processes, for the chain that launched a container.
    public let processes = ProcessTable()
    /// How many removed cgroups are remembered (oldest forgotten first).
    public let tombstoneLimit: Int
    /// Told of every cgroup as it is learned (the scan, mkdir records) and
    /// removed: the live sensor keeps its in-kernel ignore map by them.
    public var onLearn: ((CgroupID, String) -> Void)?
    public var onRemoved: ((CgroupID) -> Void)?

    public init(tombstoneLimit: Int = 4096) {
        self.tombstoneLimit = tombstoneLimit
    }

    /// Records that `id` is the cgroup at `path` (relative to the cgroup2 root).
    public func learn(_ id: CgroupID, path: String) {
        paths[id] = path
        cache[id] = nil
        leafCache[id] = nil
        onLearn?(id, path)
    }

    /// Records that the cgroup was removed; it still resolves until
    /// `tombstoneLimit` later removals have pushed it out. (cgroup2 ids are
    /// not reused, so a tombstone never shadows a new cgroup.)
    public func removed(_ id: CgroupID) {
        onRemoved?(id)
        tombstones.append(id)
        if tombstones.count > tombstoneLimit * 2 {
            let expired = tombstones.count - tombstoneLimit
            for old in tombstones.prefix(expired) {
                paths[old] = nil
                cache[old] = nil
            }
            tombstones.removeFirst(expired)
        }
    }

    public func path(of id: CgroupID) -> String? { paths[id] }

    public var count: Int { paths.count }

    /// Every cgroup known, live or tombstoned (a rotated dump's snapshot).
    public var allPaths: [(id: CgroupID, path: String)] {
        paths.map { ($0.key, $0.value) }.sorted { $0.id.rawValue < $1.id.rawValue }
    }

    /// Applies a cgroup record (other records are ignored); returns the
    /// container start or exit it means, if any.
    @discardableResult
    public func apply(_ event: Event) -> LifecycleChange? {
        let h = event.header
        switch event.detail {
        case .exec(let x) where x.result == 0: processes.note(pid: h.pid, ppid: h.ppid, comm: h.comm)
        case .fork(let child): processes.note(pid: child, ppid: h.pid, comm: h.comm)
        default: break
        }
        guard case .cgroup(let change) = event.detail else { return nil }
        let at = event.header.bootTimeNanos
        processes.note(pid: h.pid, ppid: h.ppid, comm: h.comm)
        let launcher = { self.processes.lineage(from: h.pid, comm: h.comm, ppid: h.ppid) }
        if change.hierarchy != 0 {
            // a v1 (pids) cgroup: only for the lifecycle of containers placed in
            // v1 alone; its id is tagged with the hierarchy, never mixed with cgroup2's
            guard let info = CgroupPath.attribute(path: change.path.value).container else { return nil }
            let tagged = CgroupID(change.id.rawValue & 0x00ff_ffff_ffff_ffff | UInt64(change.hierarchy & 0xff) << 56)
            return event.kind == .cgroupCreated ? registry.cgroupCreated(tagged, info, at: at, launchedBy: launcher())
                                                : registry.cgroupRemoved(tagged, container: info.id, at: at)
        }
        switch event.kind {
        case .cgroupCreated:
            learn(change.id, path: change.path.value)
            guard case .container(let info) = attribution(of: change.id, leaf: "") else { return nil }
            return registry.cgroupCreated(change.id, info, at: at, launchedBy: launcher())
        case .cgroupRemoved:
            let container = attribution(of: change.id, leaf: "").container?.id
                ?? CgroupPath.attribute(path: change.path.value).container?.id
            removed(change.id)
            return container.flatMap { registry.cgroupRemoved(change.id, container: $0, at: at) }
        default:
            return nil
        }
    }

    /// The attribution of the task that produced `header`: by the known path
    /// of its cgroup id, else by the leaf name the kernel read at the event.
    private var v1Cache: [String: Attribution] = [:]
    /// By leaf name, for ids whose path is not known (yet): bounded, and
    /// dropped for an id when its path is learned.
    private var leafCache: [CgroupID: Attribution] = [:]
    private var metadata: [ContainerID: ContainerMetadata] = [:]

    /// Joins a runtime's description into the container's attribution from
    /// now on (events before it carry the ID only).
    public func setMetadata(_ m: ContainerMetadata, for id: ContainerID) {
        metadata[id] = m
        for cg in registry.containers[id]?.cgroups ?? [] { cache[cg] = nil }
        registry.setMetadata(m, for: id)
        if metadata.count > 8192 { metadata = metadata.filter { registry.containers[$0.key] != nil } }
    }

    public func attribution(for header: RecordHeader) -> Attribution {
        if header.cgroupIsV1 { return v1Attribution(header.cgroupName.value) }
        return attribution(of: header.cgroup, leaf: header.cgroupName.value)
    }

    /// A task in the cgroup2 root, named by its v1 "parent/leaf": a container
    /// if a rule matches, else the host (the cgroup2 root is the host's).
    /// v1 ids collide across hierarchies, so only the names are used.
    func v1Attribution(_ name: String) -> Attribution {
        if let hit = v1Cache[name] { return hit }
        var result = Attribution.host
        if case .container(var info) = CgroupPath.attribute(path: "/" + name) {
            info.cgroupPath = "v1:.../" + name
            result = .container(info)
        }
        if v1Cache.count >= 4096 { v1Cache.removeAll(keepingCapacity: true) }
        v1Cache[name] = result
        return result
    }

    public func attribution(of id: CgroupID, leaf: String = "") -> Attribution {
        if id == .root { return .host }
        if let hit = cache[id] { return hit }
        guard let path = paths[id] else {
            // kept apart: the path may still arrive (mkdir record or rescan)
            if let hit = leafCache[id] { return hit }
            let result = CgroupPath.attribute(leaf: leaf)
            if !leaf.isEmpty {
                if leafCache.count >= 4096 { leafCache.removeAll(keepingCapacity: true) }
                leafCache[id] = result
            }
            return result
        }
        var result = CgroupPath.attribute(path: path)
        if case .container(var info) = result, let m = metadata[info.id] {
            info.metadata = m
            result = .container(info)
        }
        cache[id] = result
        return result
    }
}
