/// Which events the user asked to see.
public struct EventFilter: Sendable {
    /// Kinds to show; cgroup records are shown only when asked for.
    public var kinds: Set<EventKind> = [.exec, .open, .connect]
    /// Container ID prefixes (full or short IDs), or "host".
    public var containers: [String] = []
    public var pids: Set<Int32> = []
    /// cgroup2 path prefixes ("/boxwatch-fixture"): whole path components.
    public var cgroupPrefixes: [String] = []
    /// Container start and exit lines (`--kind container`).
    public var lifecycle = true

    public init() {}

    /// Whether anything beyond the default kinds narrows the stream.
    public var narrows: Bool { !containers.isEmpty || !pids.isEmpty || !cgroupPrefixes.isEmpty }

    public func accepts(_ e: Event, _ a: Attribution, cgroupPath: @autoclosure () -> String? = nil) -> Bool {
        guard kinds.contains(e.kind) else { return false }
        if !pids.isEmpty && !pids.contains(e.header.pid) { return false }
        if !cgroupPrefixes.isEmpty && !underPrefix(cgroupPath()) { return false }
        return matchesContainer(a)
    }

    public func accepts(_ change: LifecycleChange) -> Bool {
        lifecycle && pids.isEmpty && (cgroupPrefixes.isEmpty || underPrefix(change.state.info.cgroupPath))
            && matchesContainer(.container(change.state.info))
    }

    /// Alerts pass the container and cgroup filters (not the kind filter).
    public func acceptsAlert(from c: ContainerInfo) -> Bool {
        (cgroupPrefixes.isEmpty || underPrefix(c.cgroupPath)) && matchesContainer(.container(c))
    }

    private func underPrefix(_ path: String?) -> Bool {
        guard let path else { return false }
        return cgroupPrefixes.contains { Self.cgroup(path, isUnder: $0) }
    }

    /// Whole path components: "/a/b" is under "/a", "/ab" is not.
    static func cgroup(_ path: String, isUnder prefix: String) -> Bool {
        path == prefix || path.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")
    }

    private func matchesContainer(_ a: Attribution) -> Bool {
        if !containers.isEmpty {
            let matched = containers.contains { want in
                switch a {
                case .host: return want == "host"
                case .container(let c): return want != "host" && want != "unknown" && c.id.rawValue.hasPrefix(want)
                case .unknown: return want == "unknown"
                }
            }
            if !matched { return false }
        }
        return true
    }
}

/// Which cgroups' events the kernel leaves out (`--ignore-cgroup`,
/// `--containers-only`, `--host-only`): decided here, per cgroup, as user
/// space learns it; a cgroup not yet classified is let in (never hidden by
/// a guess).
public struct CgroupIgnoreRule: Sendable, Equatable {
    public enum Scope: String, Sendable { case all, containers, host }
    /// cgroup2 subtrees left out (whole path components).
    public var prefixes: [String] = []
    public var scope = Scope.all
    /// On hybrid hosts a container placed in cgroup v1 only runs in the
    /// cgroup2 root, so `containers` keeps the root.
    public var v1Fallback = false

    public init() {}

    public var active: Bool { !prefixes.isEmpty || scope != .all }

    public func ignores(path: String, attribution: Attribution) -> Bool {
        if prefixes.contains(where: { EventFilter.cgroup(path, isUnder: $0) }) { return true }
        switch (scope, attribution) {
        case (.containers, .host): return !(v1Fallback && path == "/")
        // a rootless container's cgroup is one its user could make themselves
        // (systemd delegates user@UID.service): --host-only keeps it
        case (.host, .container(let c)): return !c.rootless
        default: return false  // unknown paths are always let in
        }
    }
}

/// Decode -> attribute -> filter -> format, the same for live records and
/// replayed ones. Holds the container table; counts what it could not decode.
public final class Pipeline {
    public let table: ContainerTable
    public var filter: EventFilter
    public var formatter: EventFormatter
    public var clock: WallClock
    public private(set) var decoded = 0
    public private(set) var shown = 0
    public private(set) var undecodable = 0
    public private(set) var lastError: DecodeError?
    /// Called for every container start and exit (shown or not).
    public var onLifecycle: ((LifecycleChange) -> Void)?
    /// Scores events and raises alerts (nil: scoring off).
    public var scorer: Scorer?
    /// Events are printed (off for `run`: alerts only).
    public var showEvents = true
    public private(set) var alertsShown = 0
    /// Records decoded, by kind (the "delivered" of the loss accounting).
    public var delivered: [EventKind: UInt64] {
        var out: [EventKind: UInt64] = [:]
        for k in EventKind.allCases where deliveredByWire[Int(k.wireValue)] > 0 { out[k] = deliveredByWire[Int(k.wireValue)] }
        return out
    }
    private var deliveredByWire = [UInt64](repeating: 0, count: 16)
    /// Per-CPU sequence numbers seen: gaps are records the kernel dropped.
    public private(set) var sequence = SequenceTracker()
    public private(set) var lossWindows = 0

    public init(table: ContainerTable = ContainerTable(), filter: EventFilter = EventFilter(),
                formatter: EventFormatter, clock: WallClock) {
        self.table = table
        self.filter = filter
        self.formatter = formatter
        self.clock = clock
    }

    /// Handles one raw record; appends its line to `out` if it is shown.
    /// Returns the event (nil when the bytes did not decode).
    @discardableResult
    public func handle(_ raw: UnsafeRawBufferPointer, into out: inout String) -> Event? {
        let event: Event
        do {
            event = try RecordDecoder.decode(raw)
        } catch {
            undecodable += 1
            lastError = error
            return nil
        }
        decoded += 1
        deliveredByWire[Int(event.kind.wireValue) & 15] &+= 1
        sequence.saw(cpu: event.header.cpu, seq: event.header.sequence)
        if let change = table.apply(event) {
            onLifecycle?(change)
            if showEvents && filter.accepts(change) {
                shown += 1
                formatter.format(change, clock: clock, into: &out)
            }
            scorer?.lifecycle(change, clock: clock)
        }
        let attribution = table.attribution(for: event.header)
        var state: ContainerState?
        if let c = attribution.container, event.kind == .exec || event.kind == .open || event.kind == .connect {
            table.registry.saw(c, kind: event.kind, at: event.header.bootTimeNanos, cgroup: event.header.cgroup)
            state = table.registry.containers[c.id]
        }
        let score = scorer?.score(event, attribution: attribution, state: state, clock: clock)
        if showEvents && filter.accepts(event, attribution, cgroupPath: table.path(of: event.header.cgroup)) {
            shown += 1
            formatter.format(event, attribution: attribution, score: score, clock: clock, into: &out)
        }
        emitAlerts(into: &out)
        return event
    }

    /// Joins a runtime's description of a container (live: when the lookup
    /// finishes; replay: at the dump's metadata block, the same place).
    public func setMetadata(_ m: ContainerMetadata, for id: ContainerID, into out: inout String) {
        table.setMetadata(m, for: id)
        if let scorer, let state = table.registry.containers[id] {
            scorer.metadata(state, clock: clock)
            emitAlerts(into: &out)
        }
    }

    /// Kernel counters moved from `old` (at Unix time `from`) to `now` (at
    /// `to`): when records were dropped, an in-band `lost` record in the
    /// output, a "coverage degraded" signal with scoring on, and the stderr
    /// line (returned).
    public func counters(since old: KernelCounters, now: KernelCounters, from: Int64, to: Int64,
                         into out: inout String) -> String? {
        guard let window = LossWindow(since: old, now: now, from: from, to: to) else { return nil }
        lossWindows += 1
        if showEvents { formatter.format(window, into: &out) }
        if let scorer {
            scorer.loss(dropped: window.total, detail: "LOST \(window.total) events: \(window.kinds)")
            emitAlerts(into: &out)
        }
        return LossReport.line(window)
    }

    private func emitAlerts(into out: inout String) {
        guard let scorer, scorer.hasPendingAlerts else { return }
        for a in scorer.takeAlerts() {
            if let c = a.container, !filter.acceptsAlert(from: c) { continue }
            alertsShown += 1
            formatter.format(a, clock: clock, into: &out)
        }
    }

}
