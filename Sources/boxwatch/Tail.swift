import BoxwatchCore
import BoxwatchHost
import Glibc

let boxwatchVersion = "0.1.0"

struct TailOptions {
    var json = false
    var filter = EventFilter()
    var duration: Double?
    var ringBytes = 16 << 20
    var color: Bool
    var includeSelf = false
    var objectPath: String?

    init(_ args: Arguments) throws {
        var args = args
        json = args.flag("--json")
        includeSelf = args.flag("--include-self")
        let list = { (name: String) throws -> [String] in
            try args.values(name).flatMap { $0.split(separator: ",").map(String.init) }
        }
        let kindValues = try args.values("--kind")
        if kindValues.contains(where: { $0.isEmpty }) {
            throw UsageError(message: "boxwatch tail: --kind needs a value: exec, open, connect or cgroup")
        }
        let kinds = kindValues.flatMap { $0.split(separator: ",").map(String.init) }
        if !kinds.isEmpty {
            filter.kinds = []
            for k in kinds {
                switch k {
                case "exec": filter.kinds.insert(.exec)
                case "open": filter.kinds.insert(.open)
                case "connect": filter.kinds.insert(.connect)
                case "cgroup": filter.kinds.formUnion([.cgroupCreated, .cgroupRemoved])
                default: throw UsageError(message: "boxwatch tail: --kind '\(k)' is not one of exec, open, connect, cgroup")
                }
            }
        }
        filter.containers = try list("--container")
        if filter.containers.contains(where: \.isEmpty) {
            throw UsageError(message: "boxwatch tail: --container needs an ID, 'host' or 'unknown'")
        }
        for p in try list("--pid") {
            guard let pid = Int32(p), pid > 0 else { throw UsageError(message: "boxwatch tail: --pid '\(p)' is not a process id") }
            filter.pids.insert(pid)
        }
        if let d = try args.value("--duration") {
            guard let s = Double(d), s > 0, s.isFinite else {
                throw UsageError(message: "boxwatch tail: --duration '\(d)' is not a positive number of seconds")
            }
            duration = s
        }
        if let r = try args.value("--ring-size") {
            ringBytes = try parseSize(r, option: "boxwatch tail: --ring-size")
            guard ringBytes >= 4096, ringBytes <= 1 << 30, ringBytes & (ringBytes - 1) == 0 else {
                throw UsageError(message: "boxwatch tail: --ring-size '\(r)' must be a power of two from 4K to 1G")
            }
        }
        switch try args.value("--color") ?? "auto" {
        case "auto": color = isatty(1) == 1 && getenv("NO_COLOR") == nil
        case "always": color = true
        case "never": color = false
        case let other: throw UsageError(message: "boxwatch tail: --color '\(other)' is not auto, always or never")
        }
        objectPath = try args.value("--bpf-object")
        try args.finish()
    }
}

/// `boxwatch tail`: load, attach, print events until stopped.
struct Tail {
    let options: TailOptions
    let out = FDWriter(fd: 1)
    let err = FDWriter(fd: 2)

    func run() -> Int32 {
        let signals = StopSignals()  // before anything else, so an early Ctrl-C is not lost
        let objectPath = BPFObjectLocator.find(explicit: options.objectPath)
        if let explicit = options.objectPath, objectPath == nil {
            fail("--bpf-object \(explicit): no readable file there", code: 1)
        }
        if let problem = Preflight.check(objectPath: objectPath) { fail(problem.description, code: 1) }

        var sensorOptions = SensorOptions(objectPath: objectPath!)
        sensorOptions.ringBytes = options.ringBytes
        if options.includeSelf { sensorOptions.ignorePid = nil }
        let sensor: Sensor
        do {
            sensor = try Sensor(options: sensorOptions)
        } catch {
            fail("\(error)", code: 1)
        }

        let table = ContainerTable()
        // after attach: a cgroup made from now on also arrives as a record
        if let mount = CgroupScanner.unifiedMount() {
            CgroupScanner.scan(mount) { table.learn($0, path: $1) }
        } else {
            err.write("boxwatch: warning: no cgroup2 mount found; containers are named from the kernel's leaf names only\n")
        }
        let formatter: EventFormatter = options.json ? ECSFormatter() : TextFormatter(color: options.color)
        let pipeline = Pipeline(table: table, filter: options.filter, formatter: formatter, clock: HostClock.sample())
        err.write("boxwatch: attached \(sensor.programCount) programs, ring \(options.ringBytes) bytes, "
                  + "\(table.count) cgroup\(table.count == 1 ? "" : "s") known; Ctrl-C stops\n")
        if !options.json && isatty(1) == 1 { out.write(TextFormatter.header + "\n") }

        let start = HostClock.monotonicSeconds()
        var lastReport = start
        var reported = sensor.counters()
        var reportedUndecodable = 0
        var text = ""
        text.reserveCapacity(1 << 16)

        /// Consumes what the ring holds and prints it; nil to go on, else the exit status.
        func pump() -> Int32? {
            do {
                try sensor.consume { raw in pipeline.handle(raw, into: &text) }
            } catch {
                fail("\(error)", code: 1)
            }
            guard !text.isEmpty else { return nil }
            defer { text.removeAll(keepingCapacity: true) }
            switch out.write(text, stopFD: signals.fd) {
            case .written, .interrupted: return nil
            case .closed: return 0  // the reader went away (e.g. `| head`): not an error
            case .failed(let e): err.write("boxwatch: writing the output failed: \(String(cString: strerror(e)))\n"); return 1
            }
        }

        while true {
            var fds = [pollfd(fd: sensor.pollFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: 1, events: 0, revents: 0)]  // POLLERR: the pipe's reader is gone
            _ = poll(&fds, 3, 50)
            if let status = pump() { return status }
            if fds[2].revents & Int16(POLLERR) != 0 { return 0 }
            if signals.take() != nil { break }
            let now = HostClock.monotonicSeconds()
            if let d = options.duration, now - start >= d { break }
            if now - lastReport >= 1 {
                lastReport = now
                pipeline.clock = HostClock.sample()  // follows clock steps (NTP, date -s)
                let counters = sensor.counters()
                reportLoss(since: reported, now: counters)
                reported = counters
                if pipeline.undecodable > reportedUndecodable, let e = pipeline.lastError {
                    err.write("boxwatch: \(pipeline.undecodable - reportedUndecodable) undecodable records in the last second (last: \(e))\n")
                    reportedUndecodable = pipeline.undecodable
                }
            }
        }
        // stop the programs first, then drain: nothing submitted is left unread
        sensor.detach()
        if let status = pump() { return status }
        reportLoss(since: reported, now: sensor.counters())
        sensor.close()
        return 0
    }

    /// One stderr line when the kernel dropped records since the last report.
    func reportLoss(since old: KernelCounters, now: KernelCounters) {
        if let line = LossReport.line(since: old, now: now) { err.write(line) }
    }
}
