import BoxwatchCore
import BoxwatchHost
import Glibc

/// Options every command that loads the sensor takes.
struct SensorArgs {
    var duration: Double?
    var ringBytes = 16 << 20
    var includeSelf = false
    var objectPath: String?
    /// Where dockerd keeps its data (`dockerd --data-root`), for container names and images.
    var dockerRoot = "/var/lib/docker"
    /// Left out in the kernel, before any record is made.
    var ignoreComms: [String] = []
    var ignorePaths: [String] = []
    var ignoreCgroups = CgroupIgnoreRule()

    init(_ args: inout Arguments) throws {
        let command = args.command
        includeSelf = args.flag("--include-self")
        ignoreComms = try args.values("--ignore-comm")
        if let problem = ignoreComms.lazy.compactMap(SensorOptions.problem(ignoreComm:)).first {
            throw UsageError(message: "\(command): --ignore-comm \(problem)")
        }
        ignorePaths = try args.values("--ignore-path")
        if let problem = ignorePaths.lazy.compactMap(SensorOptions.problem(ignorePath:)).first {
            throw UsageError(message: "\(command): --ignore-path \(problem)")
        }
        if ignorePaths.count > SensorOptions.maxIgnorePaths {
            throw UsageError(message: "\(command): --ignore-path: at most \(SensorOptions.maxIgnorePaths) prefixes")
        }
        ignoreCgroups.prefixes = try args.values("--ignore-cgroup")
        if let bad = ignoreCgroups.prefixes.first(where: { !$0.hasPrefix("/") }) {
            throw UsageError(message: "\(command): --ignore-cgroup '\(bad)' is not a cgroup path (it starts with /)")
        }
        switch (args.flag("--containers-only"), args.flag("--host-only")) {
        case (true, true): throw UsageError(message: "\(command): --containers-only and --host-only exclude each other")
        case (true, false): ignoreCgroups.scope = .containers
        case (false, true): ignoreCgroups.scope = .host
        default: break
        }
        if let d = try args.value("--duration") {
            guard let s = Double(d), s > 0, s.isFinite else {
                throw UsageError(message: "\(command): --duration '\(d)' is not a positive number of seconds")
            }
            duration = s
        }
        if let r = try args.value("--ring-size") {
            ringBytes = try parseSize(r, option: "\(command): --ring-size")
            guard ringBytes >= 4096, ringBytes <= 1 << 30, ringBytes & (ringBytes - 1) == 0 else {
                throw UsageError(message: "\(command): --ring-size '\(r)' must be a power of two from 4K to 1G")
            }
        }
        objectPath = try args.value("--bpf-object")
        if let root = try args.value("--docker-root") {
            guard root.hasPrefix("/") else { throw UsageError(message: "\(command): --docker-root '\(root)' is not an absolute path") }
            dockerRoot = root
        }
    }

    func metadataResolver() -> MetadataResolver {
        let r = MetadataResolver()
        r.dockerRoot = dockerRoot
        return r
    }
}

/// Options for printing events: shared by tail and replay, so both print alike.
struct OutputArgs {
    var json = false
    var filter = EventFilter()
    var color: Bool

    init(_ args: inout Arguments) throws {
        let command = args.command
        json = args.flag("--json")
        let kindValues = try args.values("--kind")
        if kindValues.contains(where: { $0.isEmpty }) {
            throw UsageError(message: "\(command): --kind needs a value: exec, open, connect, container or cgroup")
        }
        let kinds = kindValues.flatMap { $0.split(separator: ",").map(String.init) }
        if !kinds.isEmpty {
            filter.kinds = []
            filter.lifecycle = false
            for k in kinds {
                switch k {
                case "exec": filter.kinds.insert(.exec)
                case "open": filter.kinds.insert(.open)
                case "connect": filter.kinds.insert(.connect)
                case "cgroup": filter.kinds.formUnion([.cgroupCreated, .cgroupRemoved])
                case "fork": filter.kinds.insert(.fork)
                case "container": filter.lifecycle = true
                default: throw UsageError(message: "\(command): --kind '\(k)' is not one of exec, open, connect, container, cgroup, fork")
                }
            }
        }
        filter.containers = try args.values("--container").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        if filter.containers.contains(where: \.isEmpty) {
            throw UsageError(message: "\(command): --container needs an ID, 'host' or 'unknown'")
        }
        filter.cgroupPrefixes = try args.values("--cgroup")
        if let bad = filter.cgroupPrefixes.first(where: { !$0.hasPrefix("/") }) {
            throw UsageError(message: "\(command): --cgroup '\(bad)' is not a cgroup path (it starts with /)")
        }
        for p in try args.values("--pid").flatMap({ $0.split(separator: ",").map(String.init) }) {
            guard let pid = Int32(p), pid > 0 else { throw UsageError(message: "\(command): --pid '\(p)' is not a process id") }
            filter.pids.insert(pid)
        }
        switch try args.value("--color") ?? "auto" {
        case "auto": color = isatty(1) == 1 && getenv("NO_COLOR") == nil
        case "always": color = true
        case "never": color = false
        case let other: throw UsageError(message: "\(command): --color '\(other)' is not auto, always or never")
        }
    }

    var formatter: EventFormatter { json ? ECSFormatter() : TextFormatter(color: color) }
}

let stderrWriter = FDWriter(fd: 2)

/// A loaded and attached sensor with its container table, driving the loop
/// that tail and record share: poll, consume, flush, once a second tick.
struct LiveSession {
    let signals: StopSignals
    let sensor: Sensor
    let table = ContainerTable()
    let objectPath: String
    let args: SensorArgs

    init(_ args: SensorArgs) {
        self.args = args
        signals = StopSignals()  // before anything else, so an early Ctrl-C is not lost
        guard let path = BPFObjectLocator.find(explicit: args.objectPath) else {
            if let explicit = args.objectPath { fail("--bpf-object \(explicit): no readable file there", code: 1) }
            fail(Preflight.check(objectPath: nil)!.description, code: 1)
        }
        if let problem = Preflight.check(objectPath: path) { fail(problem.description, code: 1) }
        objectPath = path
        var options = SensorOptions(objectPath: path)
        options.ringBytes = args.ringBytes
        if args.includeSelf { options.ignorePid = nil }
        options.ignoreComms = args.ignoreComms
        options.ignorePathPrefixes = args.ignorePaths
        options.cgroupFilter = args.ignoreCgroups.active
        do {
            sensor = try Sensor(options: options)
        } catch {
            fail("\(error)", code: 1)
        }
        if args.ignoreCgroups.active {
            // every cgroup is classified as it is learned (the scan below, then
            // mkdir records); until then its events come in
            var rule = args.ignoreCgroups
            rule.v1Fallback = options.v1Fallback
            table.onLearn = { [unowned table, sensor] id, path in
                if rule.ignores(path: path, attribution: table.attribution(of: id)) { sensor.ignoreCgroup(id) }
            }
            table.onRemoved = { [sensor] id in sensor.ignoreCgroup(id, false) }
        }
        // after attach: a cgroup made or a program run from now on also arrives as a record
        for p in HostFacts.processes(cgroupIDs: [:]) { table.processes.note(pid: p.pid, ppid: p.ppid, comm: p.comm) }
        if let mount = CgroupScanner.unifiedMount() {
            CgroupScanner.scan(mount) { [table] in table.learn($0, path: $1) }
        } else {
            stderrWriter.write("boxwatch: warning: no cgroup2 mount found; containers are named from the kernel's leaf names only\n")
        }
    }

    /// Asks for the metadata of the containers already running.
    func requestMetadata(_ resolver: MetadataResolver) {
        for (id, _) in table.allPaths {
            if case .container(let info) = table.attribution(of: id) { resolver.request(info) }
        }
    }

    func attachedMessage(_ doing: String = "") -> String {
        "boxwatch: attached \(sensor.programCount) programs, ring \(args.ringBytes) bytes, "
            + "\(table.count) cgroup\(table.count == 1 ? "" : "s") known\(doing); Ctrl-C stops\n"
    }

    /// Runs until a stop signal, the duration, or `flush` returns a status.
    /// - record: called for every ring record (bytes valid during the call).
    /// - flush: after each batch; nil to go on, else the exit status.
    /// - tick: once a second with the kernel counters, a fresh clock and the Unix time of the sample.
    /// - watchFD: an fd whose POLLERR ends the loop (stdout's reader gone).
    /// - reload: on SIGHUP (nil: SIGHUP stops, like the other stop signals).
    func run(record: (UnsafeRawBufferPointer) -> Void, flush: () -> Int32?,
             tick: (KernelCounters, WallClock, Int64) -> Void, reload: (() -> Void)? = nil, watchFD: Int32? = nil) -> Int32 {
        let start = HostClock.monotonicSeconds()
        var lastTick = start
        var consumed = 0
        func pump() -> Int32? {
            do {
                consumed = try sensor.consume(record)
            } catch {
                fail("\(error)", code: 1)
            }
            return flush()
        }
        // The ring's poll is level-triggered: during a steady stream it
        // returns at once, and the loop would take a few records per pass
        // (a poll and a write per handful). A short pause after a small batch
        // lets a batch gather instead; a big ring holds what arrives meanwhile.
        let pauseMicros: UInt32 = args.ringBytes >= 4 << 20 ? 5_000 : 0
        while true {
            var fds = [pollfd(fd: sensor.pollFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: watchFD ?? -1, events: 0, revents: 0)]
            _ = poll(&fds, 3, 50)
            if let status = pump() { return status }
            if fds[2].revents & Int16(POLLERR) != 0 { return 0 }
            if let sig = signals.take() {
                if sig == SIGHUP, let reload { reload() } else { break }
            }
            let now = HostClock.monotonicSeconds()
            if let d = args.duration, now - start >= d { break }
            if now - lastTick >= 1 {
                lastTick = now
                tick(sensor.counters(), HostClock.sample(), HostClock.unixNanos())
            }
            if consumed > 0 && consumed < 512 && pauseMicros > 0 { usleep(pauseMicros) }
        }
        // stop the programs first, then drain: nothing submitted is left unread
        sensor.detach()
        if let status = pump() { return status }
        tick(sensor.counters(), HostClock.sample(), HostClock.unixNanos())
        return 0
    }
}
