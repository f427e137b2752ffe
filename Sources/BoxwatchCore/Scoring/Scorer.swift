/// The detection strategy (docs/detection.md): every event gets a score from
/// the signals it shows; a container's signals within the window add up to
/// its risk; crossing the threshold raises one alert per container and signal.
/// Pure and driven only by the events' own times, so a replay of a dump
/// raises the same alerts with the same scores as the live run.

/// One weighted reason on an event or alert.
public struct Reason: Sendable, Equatable {
    public var signal: Signal
    public var weight: Int
    public var detail: String
}

public struct EventScore: Sendable, Equatable {
    /// 0...100: the sum of the reasons' weights, capped.
    public var score: Int
    public var reasons: [Reason]
}

/// An event kept as evidence for an alert.
public struct Evidence: Sendable, Equatable {
    public var at: UInt64
    public var pid: Int32
    public var comm: String
    public var action: String
    public var detail: String
}

public enum Severity: String, Sendable, Comparable {
    case low, medium, high, critical

    /// ECS `event.severity` (a number).
    public var number: Int {
        switch self { case .low: 21; case .medium: 47; case .high: 73; case .critical: 99 }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.number < b.number }
}

public struct Alert: Sendable, Equatable {
    /// 1, 2, ... in the order raised.
    public var sequence: Int
    public var signal: Signal
    /// Boot-clock time of the event (or lifecycle change) that raised it.
    public var at: UInt64
    /// nil for the sensor's own "coverage degraded" alerts.
    public var container: ContainerInfo?
    public var launchedBy: [String]
    /// The container's risk when raised, and every signal behind it.
    public var risk: Int
    public var signals: [Signal]
    public var severity: Severity
    public var reason: String
    public var evidence: [Evidence]
    /// MITRE ATT&CK techniques the evidence points to.
    public var techniques: [Technique]

    public struct Technique: Sendable, Equatable {
        public var id: String
        public var name: String
        /// The parent technique's name, for a sub-technique.
        public var techniqueName: String
        public var tactic: String
    }

    public static let uploadTool = Technique(id: "T1608.002", name: "Upload Tool", techniqueName: "Stage Capabilities",
                                             tactic: "Resource Development")
    public static let deployContainer = Technique(id: "T1610", name: "Deploy Container", techniqueName: "Deploy Container",
                                                  tactic: "Defense Evasion")

    /// The strategy's response guidance, shown with every alert.
    public static func response(for container: ContainerInfo?) -> [String] {
        let id = container.map { $0.id.short } ?? "<id>"
        return [
            "Verify: does the activity match known malicious patterns or a benign anomaly?",
            container == nil ? "Contain: find why the sensor lost events (ring size, load, a flood meant to blind it)"
                : "Contain: isolate the container and host (e.g. docker pause \(id) / docker stop \(id))",
            "Investigate origin: which process, user and parent chain deployed the container (launched_by)",
            "Document: keep this alert, its evidence events and a dump of the window around it (boxwatch record)",
        ]
    }
}

public final class Scorer {
    public private(set) var config: ScoringConfig
    public private(set) var iocs: NetworkSet
    public private(set) var baselines: BaselineStore
    private var sensitive: PathMatcher
    private var internalNets: NetworkSet
    private var states: [ContainerID: Risk] = [:]
    private var exitedOrder: [ContainerID] = []
    private var pending: [Alert] = []
    public private(set) var alertCount = 0
    /// Boot time of the latest event: when losses are noticed between events.
    public private(set) var lastEventTime: UInt64 = 0
    static let sensorID = ContainerID("boxwatch-sensor")
    /// Distinct baseline checks kept per container until its key (image) is known.
    static let pendingLimit = 4096
    /// How long to wait for a runtime's description before keying by ID.
    static let keyWaitNanos: UInt64 = 2_000_000_000

    public init(config: ScoringConfig = ScoringConfig(), iocs: NetworkSet = NetworkSet(), baselines: BaselineStore? = nil) {
        self.config = config
        self.iocs = iocs
        self.baselines = baselines ?? BaselineStore(maxEntries: config.baselineMaxEntries, maxImages: config.baselineMaxImages)
        sensitive = PathMatcher(config.sensitivePaths)
        internalNets = NetworkSet(config.internalNetworks)
    }

    /// A new configuration (a reload): containers, baselines and alert
    /// windows are kept; allow rules are re-evaluated.
    public func reconfigure(_ config: ScoringConfig, iocs: NetworkSet) {
        self.config = config
        self.iocs = iocs
        sensitive = PathMatcher(config.sensitivePaths)
        internalNets = NetworkSet(config.internalNetworks)
        baselines.maxEntries = config.baselineMaxEntries
        baselines.maxImages = config.baselineMaxImages
        for s in states.values { s.allowCache = nil }
    }

    public var hasPendingAlerts: Bool { !pending.isEmpty }

    /// Alerts raised since the last call, in order.
    public func takeAlerts() -> [Alert] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    // MARK: per-container state

    final class Risk {
        var info: ContainerInfo?
        var launchedBy: [String] = []
        var firstSeen: UInt64
        var hits: [Signal: Hit] = [:]
        var alerted: [Signal: UInt64] = [:]
        var key: String?
        var entry: BaselineStore.Entry?
        var waiting: [(Check, Evidence)] = []
        var waitingSeen: Set<Check> = []
        var workloadFull = false
        var exited = false
        var rates: [EventKind: Rate] = [:]
        var allowCache: [AllowRule]?
        var ephemeralNoted = false
        /// Processes of the container's own code: its execs and their forks.
        var workload: Set<Int32> = []
        init(info: ContainerInfo?, at: UInt64) { self.info = info; firstSeen = at }
    }

    struct Hit {
        var last: UInt64
        var weight: Int
        var detail: String
        var evidence: [Evidence]
    }

    struct Rate {
        var second: UInt64
        var since: UInt64
        var count = 0
        var average = 0.0
        var flagged: UInt64 = .max
    }

    enum Check: Hashable { case path(String), program(String), destination(String) }

    private func risk(for info: ContainerInfo, at t: UInt64) -> Risk {
        if let r = states[info.id] {
            if r.info?.metadata == nil, info.metadata != nil { r.info = info; r.allowCache = nil }
            return r
        }
        let r = Risk(info: info, at: t)
        states[info.id] = r
        if states.count > 16384 {  // exited containers are forgotten first, oldest first
            while let old = exitedOrder.first, states.count > 16384 / 2 {
                exitedOrder.removeFirst()
                if states[old]?.exited == true { states[old] = nil }
            }
            if states.count > 16384, let any = states.keys.first(where: { $0 != info.id && $0 != Self.sensorID }) { states[any] = nil }
        }
        return r
    }

    // MARK: inputs

    /// Container start and exit: new and ephemeral containers.
    public func lifecycle(_ change: LifecycleChange, clock: WallClock) {
        let s = change.state
        switch change {
        case .started(_, let t):
            let r = risk(for: s.info, at: t)
            r.launchedBy = s.launchedBy
            let ev = Evidence(at: t, pid: 0, comm: s.launchedBy.first ?? "-", action: "container-start",
                              detail: "\(s.info.runtime.rawValue) \(s.info.id.rawValue) cgroup \(s.info.cgroupPath)")
            _ = hit(.newContainer, r, at: t, detail: "container started (\(s.info.runtime.rawValue))", evidence: ev)
        case .exited(_, let t):
            guard let r = states[s.info.id] else { return }
            if r.key == nil { decideKey(r, at: t, clock: clock, force: true) }
            // keep only what its alerts need; it is forgotten first when room runs out
            r.exited = true
            r.workload = []
            r.rates = [:]
            exitedOrder.append(s.info.id)
            if let ms = s.lifetimeMillis, ms / 1000 < config.ephemeralSeconds, !r.ephemeralNoted {
                r.ephemeralNoted = true
                let ev = Evidence(at: t, pid: 0, comm: "-", action: "container-exit", detail: "lifetime \(Int(ms.rounded())) ms")
                _ = hit(.ephemeralContainer, r, at: t, detail: "lived \(Int(ms.rounded())) ms", evidence: ev)
            }
        }
    }

    /// The runtime's description arrived: it names the image (the baseline's
    /// key) and tells a detached auto-remove launch.
    public func metadata(_ state: ContainerState, clock: WallClock) {
        guard let r = states[state.info.id] else { return }
        r.info = state.info
        r.allowCache = nil
        // allow rules by image or name could not match before: drop what they silence
        for s in r.hits.keys where allowed(s, r) { r.hits[s] = nil }
        guard let m = state.info.metadata else { return }
        let t = lastEventTime
        if m.autoRemove && m.detached && !r.ephemeralNoted {
            r.ephemeralNoted = true
            let ev = Evidence(at: t, pid: 0, comm: "-", action: "container-launch", detail: "detached, auto-remove (run -d --rm)")
            _ = hit(.ephemeralContainer, r, at: t, detail: "launched detached with auto-remove", evidence: ev)
        }
        if r.key == nil { decideKey(r, at: t, clock: clock, force: false) }
    }

    /// Losses the kernel counted since the last call: coverage degraded.
    public func loss(dropped: UInt64, detail: String) {
        guard dropped > 0 else { return }
        let t = lastEventTime
        let r = states[Self.sensorID] ?? {
            let r = Risk(info: nil, at: t)
            states[Self.sensorID] = r
            return r
        }()
        let ev = Evidence(at: t, pid: 0, comm: "boxwatch", action: "lost", detail: detail)
        _ = hit(.coverageDegraded, r, at: t, detail: "sensor lost \(dropped) events: \(detail)", evidence: ev)
    }

    /// Scores one event from inside a container (nil: host events are not scored).
    public func score(_ e: Event, attribution: Attribution, state: ContainerState?, clock: WallClock) -> EventScore? {
        let t = e.header.bootTimeNanos
        lastEventTime = max(lastEventTime, t)
        guard case .container(let info) = attribution, info.role == .workload else { return nil }
        let r = risk(for: info, at: t)
        if let state, r.launchedBy.isEmpty { r.launchedBy = state.launchedBy }
        let pid = e.header.pid
        switch e.detail {
        case .exec(let x) where x.result == 0:
            // past the cap nothing more is exempt: every process counts as workload
            if r.workload.count < 16384 { r.workload.insert(pid) } else { r.workloadFull = true }
        case .fork(let child):
            if r.workload.contains(pid) && r.workload.count < 16384 { r.workload.insert(child) }
            return nil
        default: break
        }
        // The runtime's init (runc, crun) works inside the container's cgroup on
        // host paths before it execs the workload: not the image's behaviour, so
        // it neither learns nor deviates from the baseline. Only that: IOC and
        // sensitive-file checks apply to every process, whatever its name.
        let runtimeInit = !r.workloadFull && !r.workload.contains(pid) && Self.isRuntimeInit(e.header.comm)
        var reasons: [Reason] = []
        if r.key == nil { decideKey(r, at: t, clock: clock, force: false) }

        switch e.detail {
        case .open(let o):
            if let path = Self.resolvedPath(o) {
                if !runtimeInit { check(.path(path), r, e, at: t, clock: clock, into: &reasons) }
                if let p = sensitiveMatch(path), !allowed(.sensitiveFile, r, path: path) {
                    add(.sensitiveFile, r, e, at: t, detail: "\(path) (matches \(p))", into: &reasons)
                }
            } else if !runtimeInit, o.path.truncated || o.directory?.truncated == true {
                // padding a path past what the kernel copies must not hide it
                add(.fileOffBaseline, r, e, at: t, detail: "path too long to resolve (\(o.path.value.prefix(64))…)", into: &reasons)
            }
        case .exec(let x):
            if !runtimeInit, let path = Self.resolvedProgram(x) {
                check(.program(path), r, e, at: t, clock: clock, into: &reasons)
            }
        case .connect(let c):
            switch c.address {
            case .unix(let raw, false):
                let path = raw.hasPrefix("/") ? Self.sameRoot(PathText.normalize(raw)) : raw
                if let p = sensitiveMatch(path), !allowed(.sensitiveFile, r, path: path) {
                    add(.sensitiveFile, r, e, at: t, detail: "socket \(path) (matches \(p))", into: &reasons)
                }
            default:
                if let ip = c.address.ip {
                    if let label = iocs.match(ip), !allowed(.iocDestination, r, destination: ip) {
                        add(.iocDestination, r, e, at: t, detail: "\(ip.normalized) on IOC list (\(label))", into: &reasons)
                    }
                    if !runtimeInit && isExternal(ip) {
                        check(.destination(ip.normalized.description), r, e, at: t, clock: clock, into: &reasons)
                    }
                }
            }
        default:
            return nil
        }
        if !runtimeInit { spike(e, r, at: t, into: &reasons) }
        let score = min(100, reasons.reduce(0) { $0 + $1.weight })
        return EventScore(score: score, reasons: reasons)
    }

    // MARK: signals

    /// The names runc, crun and youki give their init before it execs.
    static func isRuntimeInit(_ comm: String) -> Bool {
        comm == "runc" || comm == "crun" || comm == "youki" || comm.hasPrefix("runc:[")
    }

    /// The path an open reached, when it is known absolutely (relative
    /// paths are resolved against the directory the kernel walked).
    static func resolvedPath(_ o: OpenDetail) -> String? { o.absolutePath.map(sameRoot) }

    /// "/proc/self/root/etc/shadow" is "/etc/shadow" (also /proc/<pid>/root
    /// and /proc/thread-self/root: the same root for a process of the container).
    static func sameRoot(_ path: String) -> String {
        guard path.hasPrefix("/proc/") else { return path }
        let parts = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[2] == "root",
              parts[1] == "self" || parts[1] == "thread-self" || parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return path }
        return parts.count == 4 ? sameRoot("/" + parts[3]) : "/"
    }

    /// The program an exec ran: the kernel's walk of the file (so
    /// `/proc/self/exe` re-execs and relative names resolve), else the name.
    static func resolvedProgram(_ x: ExecDetail) -> String? {
        if let exe = x.executable?.known, !(x.executable?.truncated ?? true), exe.hasPrefix("/") { return exe }
        guard let f = x.filename.known, f.hasPrefix("/"), !x.filename.truncated else { return nil }
        return PathText.normalize(f)
    }

    func sensitiveMatch(_ path: String) -> String? { sensitive.match(path) }

    func isExternal(_ ip: IPAddress) -> Bool {
        let n = ip.normalized
        if n.isLoopback || internalNets.contains(n) { return false }
        switch n {
        case .v4(let a):
            return a >> 16 != 0xa9fe && a != 0 && a >> 28 != 0xe  // link-local, unspecified, multicast
        case .v6(let b):
            return !(b[0] == 0xfe && b[1] & 0xc0 == 0x80) && b[0] != 0xff && !b.allSatisfy { $0 == 0 }
        }
    }

    /// Baseline signals: learned while the image is learning, scored after.
    /// Before the image is known, checks wait (bounded) for the key.
    private func check(_ c: Check, _ r: Risk, _ e: Event, at t: UInt64, clock: WallClock, into reasons: inout [Reason]) {
        check(c, r, evidence: evidence(e), at: t, clock: clock, into: &reasons)
    }

    private func check(_ c: Check, _ r: Risk, evidence ev: @autoclosure () -> Evidence, at t: UInt64, clock: WallClock,
                       into reasons: inout [Reason]) {
        guard let entry = r.entry else {
            if r.waiting.count < Self.pendingLimit, r.waitingSeen.insert(c).inserted { r.waiting.append((c, ev())) }
            return
        }
        let now = clock.unixNanos(boot: t)
        if baselines.isLearning(entry, at: now, config: config) {
            switch c {
            case .path(let p): baselines.learn(path: p, in: entry)
            case .program(let p): baselines.learn(program: p, in: entry)
            case .destination(let d): baselines.learn(destination: d, in: entry)
            }
            return
        }
        switch c {
        case .path(let p):
            if !entry.paths.contains(p), !allowed(.fileOffBaseline, r, path: p) {
                add(.fileOffBaseline, r, ev(), at: t, detail: "\(p) never seen for \(r.key ?? "?")", into: &reasons)
            }
        case .program(let p):
            if !entry.programs.contains(p), !allowed(.fileOffBaseline, r, path: p) {
                add(.fileOffBaseline, r, ev(), at: t, detail: "program \(p) never run by \(r.key ?? "?")", into: &reasons)
            }
        case .destination(let d):
            if !entry.destinations.contains(d), !allowed(.unexpectedDestination, r, destination: IPAddress(text: d)) {
                add(.unexpectedDestination, r, ev(), at: t, detail: "\(d) never reached by \(r.key ?? "?")", into: &reasons)
            }
        }
    }

    /// The baseline key: the image, else the container name; containers no
    /// runtime describes (or not within 2 s) are their own key.
    private func decideKey(_ r: Risk, at t: UInt64, clock: WallClock, force: Bool) {
        guard let info = r.info else { return }
        var key: String?
        if let m = info.metadata, !m.image.isEmpty {
            key = "image:" + m.image
        } else if let m = info.metadata, !m.name.isEmpty {
            key = "name:" + m.name
        } else if force || info.runtime != .docker || Self.elapsed(r.firstSeen, t) > Self.keyWaitNanos {
            key = "container:" + info.id.rawValue
        }
        guard let key else { return }
        r.key = key
        let entry = baselines.entry(key, at: clock.unixNanos(boot: r.firstSeen))
        baselines.countContainer(entry)
        r.entry = entry
        let waiting = r.waiting
        r.waiting = []
        r.waitingSeen = []
        for (c, ev) in waiting {
            var reasons: [Reason] = []
            check(c, r, evidence: ev, at: ev.at, clock: clock, into: &reasons)
        }
    }

    /// Rolling one-second rates per kind against their own moving average.
    private func spike(_ e: Event, _ r: Risk, at t: UInt64, into reasons: inout [Reason]) {
        let kind = e.kind
        let second = t / 1_000_000_000
        var rate = r.rates[kind] ?? Rate(second: second, since: second)
        if second > rate.second {  // (an earlier second, out of order, counts in the current one)
            let alpha = 0.2
            rate.average = alpha * Double(rate.count) + (1 - alpha) * rate.average
            for _ in 0..<min(second - rate.second - 1, 60) { rate.average *= 1 - alpha }
            rate.second = second
            rate.count = 0
        }
        rate.count += 1
        if Double(Self.elapsed(rate.since, second)) >= config.spikeWarmupSeconds, rate.flagged != second,
           Double(rate.count) > max(config.spikeMinPerSecond, config.spikeFactor * rate.average),
           !allowed(.activitySpike, r) {
            rate.flagged = second
            let avg = (rate.average * 10).rounded() / 10
            add(.activitySpike, r, evidence(e), at: t, detail: "\(rate.count) \(kind.rawValue)/s against an average of \(avg)/s", into: &reasons)
        }
        r.rates[kind] = rate
    }

    private func add(_ s: Signal, _ r: Risk, _ e: Event, at t: UInt64, detail: @autoclosure () -> String, into reasons: inout [Reason]) {
        add(s, r, evidence(e), at: t, detail: detail(), into: &reasons)
    }

    private func add(_ s: Signal, _ r: Risk, _ ev: @autoclosure () -> Evidence, at t: UInt64, detail: @autoclosure () -> String,
                     into reasons: inout [Reason]) {
        let detail = detail()
        if let w = hit(s, r, at: t, detail: detail, evidence: ev()) {
            reasons.append(Reason(signal: s, weight: w, detail: detail))
        }
    }

    /// Records a signal on a container; raises alerts when its risk is at or
    /// over the threshold. Returns the weight (nil: disabled or allowed).
    private func hit(_ s: Signal, _ r: Risk, at t: UInt64, detail: String, evidence: @autoclosure () -> Evidence) -> Int? {
        let w = config.weight(s)
        guard config.signals[s]?.enabled ?? true, !allowed(s, r) else { return nil }
        if var h = r.hits[s], Self.elapsed(h.last, t) <= windowNanos {
            h.last = max(h.last, t)
            if h.evidence.count < 5 { h.evidence.append(evidence()) }
            r.hits[s] = h
        } else {
            r.hits[s] = Hit(last: t, weight: w, detail: detail, evidence: [evidence()])
        }
        raise(r, at: t)
        return w
    }

    private var windowNanos: UInt64 { UInt64(min(max(config.windowSeconds, 0), 1e9) * 1e9) }

    /// Time from `a` to `b`, 0 when `b` is earlier (records from different
    /// CPUs, or a preempted program, arrive a little out of order).
    static func elapsed(_ a: UInt64, _ b: UInt64) -> UInt64 { b > a ? b - a : 0 }

    private func raise(_ r: Risk, at t: UInt64) {
        guard !config.learningMode else { return }
        let live = r.hits.filter { Self.elapsed($0.value.last, t) <= windowNanos }
        let total = live.values.reduce(0) { $0 + $1.weight }
        // the sensor has one signal only: its losses alert whenever they are weighted at all
        guard total >= config.threshold || (r.info == nil && total > 0) else { return }
        let signals = live.keys.sorted()
        let severity = Self.severity(Set(signals))
        for s in signals {
            if let last = r.alerted[s], Self.elapsed(last, t) <= windowNanos { continue }
            r.alerted[s] = max(t, r.alerted[s] ?? 0)
            let h = live[s]!
            alertCount += 1
            let technique = s == .newContainer || s == .ephemeralContainer ? [Alert.deployContainer, Alert.uploadTool] : [Alert.uploadTool]
            pending.append(Alert(sequence: alertCount, signal: s, at: t, container: r.info, launchedBy: r.launchedBy,
                                 risk: min(total, 100), signals: signals, severity: severity, reason: h.detail,
                                 evidence: h.evidence, techniques: r.info == nil ? [] : technique))
        }
    }

    /// Medium by default; two indicators together make it high, and the
    /// strategy's core case (ephemeral + IOC contact + sensitive file) critical.
    static func severity(_ signals: Set<Signal>) -> Severity {
        if signals.isSuperset(of: [.ephemeralContainer, .iocDestination, .sensitiveFile]) { return .critical }
        let strong: Set<Signal> = [.ephemeralContainer, .iocDestination, .sensitiveFile, .fileOffBaseline,
                                   .unexpectedDestination, .activitySpike]
        return signals.intersection(strong).count >= 2 ? .high : .medium
    }

    // MARK: allow rules

    private func rules(for r: Risk) -> [AllowRule] {
        if let c = r.allowCache { return c }
        let matched = config.allow.filter { rule in
            guard let info = r.info else { return false }
            if let g = rule.image, !Glob(g).matches(info.metadata?.image ?? "") { return false }
            if let g = rule.containerName, !Glob(g).matches(info.metadata?.name ?? "") { return false }
            if let p = rule.cgroupPrefix, !EventFilter.cgroup(info.cgroupPath, isUnder: p) { return false }
            if let l = rule.launchedBy {
                let g = Glob(l)
                if !r.launchedBy.contains(where: { g.matches(Self.comm(of: $0)) }) { return false }
            }
            return true
        }
        // the launcher chain may arrive after the first event: cache only when settled
        if r.info?.metadata != nil || !r.launchedBy.isEmpty { r.allowCache = matched }
        return matched
    }

    private func allowed(_ s: Signal, _ r: Risk, path: String? = nil, destination: IPAddress? = nil) -> Bool {
        rules(for: r).contains { rule in
            guard rule.signals.isEmpty || rule.signals.contains(s) else { return false }
            if !rule.paths.isEmpty {
                guard let path, rule.paths.contains(where: { PathPattern($0).matches(path) }) else { return false }
            }
            if !rule.destinations.isEmpty {
                guard let ip = destination, rule.destinations.contains(where: { $0.contains(ip) }) else { return false }
            }
            return true
        }
    }

    /// "runc[812]" -> "runc".
    static func comm(of link: String) -> String {
        guard let b = link.lastIndex(of: "[") else { return link }
        return String(link[..<b])
    }

    private func evidence(_ e: Event) -> Evidence {
        let detail: String
        switch e.detail {
        case .open(let o):
            detail = (Self.resolvedPath(o) ?? o.path.value) + " -> " + Describe.result(e)
        case .exec(let x):
            detail = (Self.resolvedProgram(x) ?? x.filename.value) + " " + x.argv.joined(separator: " ") + " -> " + Describe.result(e)
        case .connect(let c):
            detail = (Describe.transport(c).map { $0 + " " } ?? "") + c.address.description + " -> " + Describe.result(e)
        default:
            detail = ""
        }
        return Evidence(at: e.header.bootTimeNanos, pid: e.header.pid, comm: e.header.comm, action: e.kind.rawValue,
                        detail: String(detail.prefix(512)))
    }
}
