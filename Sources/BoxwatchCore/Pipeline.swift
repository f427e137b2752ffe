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

    private func underPrefix(_ path: String?) -> Bool {
        guard let path else { return false }
        return cgroupPrefixes.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
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
        if let change = table.apply(event) {
            onLifecycle?(change)
            if filter.accepts(change) {
                shown += 1
                formatter.format(change, clock: clock, into: &out)
            }
        }
        let attribution = table.attribution(for: event.header)
        if let c = attribution.container, event.kind == .exec || event.kind == .open || event.kind == .connect {
            table.registry.saw(c, kind: event.kind, at: event.header.bootTimeNanos, cgroup: event.header.cgroup)
        }
        if filter.accepts(event, attribution, cgroupPath: table.path(of: event.header.cgroup)) {
            shown += 1
            formatter.format(event, attribution: attribution, clock: clock, into: &out)
        }
        return event
    }
}
