/// Output formats. Live tail and replay call the same formatter, so the same
/// record gives the same line wherever it is read.
public protocol EventFormatter {
    /// Appends one line (with its newline) for `event` to `out`; `score` when scoring is on.
    func format(_ event: Event, attribution: Attribution, score: EventScore?, clock: WallClock, into out: inout String)
    /// Appends one line for a container start or exit.
    func format(_ change: LifecycleChange, clock: WallClock, into out: inout String)
    /// Appends one alert (text: a block that stands out; JSON: an ECS alert).
    func format(_ alert: Alert, clock: WallClock, into out: inout String)
    /// Appends the in-band record of events the kernel dropped in a window.
    func format(_ loss: LossWindow, into out: inout String)
}

extension EventFormatter {
    public func format(_ event: Event, attribution: Attribution, clock: WallClock, into out: inout String) {
        format(event, attribution: attribution, score: nil, clock: clock, into: &out)
    }
}

/// One JSON object per line, with Elastic Common Schema field names, plus a
/// `boxwatch` object for what ECS has no field for.
public struct ECSFormatter: EventFormatter {
    public init() {}

    public func format(_ e: Event, attribution: Attribution, score: EventScore?, clock: WallClock, into out: inout String) {
        let h = e.header
        var j = JSONWriter()
        j.object { j in
            j.field("@timestamp", UTCTime(unixNanos: clock.unixNanos(boot: h.bootTimeNanos)))
            j.object("event") { j in
                j.field("kind", "event")
                j.field("category", [Self.category(e.kind)])
                j.field("type", [Self.type(e)])
                j.field("action", e.kind.rawValue)
                j.field("outcome", e.outcome == .success || e.outcome == .failure ? e.outcome.rawValue : "unknown")
                if let score { j.field("risk_score", score.score) }
            }
            j.object("process") { j in
                j.field("pid", h.pid)
                j.object("thread") { $0.field("id", h.tid) }
                j.object("parent") { $0.field("pid", h.ppid) }
                j.field("name", h.comm)
                if case .exec(let x) = e.detail {
                    j.field("executable", x.filename.known)
                    j.field("args", x.argv)
                    j.field("args_count", x.argc)
                }
            }
            j.object("user") { $0.field("id", String(h.uid)) }
            j.object("group") { $0.field("id", String(h.gid)) }
            if let c = attribution.container { Self.container(c, into: &j) }
            switch e.detail {
            case .open(let o):
                j.object("file") { $0.field("path", o.absolutePath ?? o.path.known) }
            case .connect(let c):
                j.object("destination") { j in
                    switch c.address {
                    case .inet(let ip, let port), .inet6(let ip, let port, _, _):
                        j.field("address", ip.normalized.description)
                        j.field("ip", ip.normalized.description)
                        j.field("port", port)
                    case .unix(let path, let abstract):
                        j.field("address", (abstract ? "@" : "") + path)
                    default:
                        j.field("address", c.address.description)
                    }
                }
                j.object("network") { j in
                    j.field("transport", Describe.transport(c))
                    switch c.address {
                    case .inet: j.field("type", "ipv4")
                    case .inet6(let ip, _, _, _): j.field("type", ip.isIPv4Mapped ? "ipv4" : "ipv6")
                    default: break
                    }
                }
            default: break
            }
            j.object("boxwatch") { j in
                j.field("cgroup_id", h.cgroup.rawValue)
                j.field("cgroup_name", h.cgroupName.value)
                switch attribution {
                case .host: j.field("attribution", "host")
                case .container(let c):
                    j.field("attribution", "container")
                    j.field("cgroup_path", c.cgroupPath)
                    if c.role != .workload { j.field("container_role", c.role.rawValue) }
                    j.field("qos", c.qos?.rawValue)
                    if c.rootless { j.field("rootless", true) }
                    j.field("parent_container_id", c.parent?.rawValue)
                case .unknown(let path):
                    j.field("attribution", "unknown")
                    j.field("cgroup_path", path)
                }
                j.field("seq", h.sequence)
                j.field("cpu", h.cpu)
                j.field("ktime_ns", h.bootTimeNanos)
                j.field("ns_pid", h.namespacePid)
                j.field("pidns", h.pidNamespace)
                j.field("mntns", h.mountNamespace)
                if let errno = e.errno {
                    j.field("errno", errno)
                    j.field("errno_name", ErrnoName.name(errno))
                }
                if e.outcome == .interrupted { j.field("interrupted", true) }
                if let score, !score.reasons.isEmpty { Self.reasons(score.reasons, into: &j) }
                Self.kindFields(e, into: &j)
            }
        }
        out += j.text
        out += "\n"
    }

    public func format(_ change: LifecycleChange, clock: WallClock, into out: inout String) {
        let s = change.state
        let (action, at): (String, UInt64)
        switch change {
        case .started(_, let t): (action, at) = ("container-start", t)
        case .exited(_, let t): (action, at) = ("container-exit", t)
        }
        var j = JSONWriter()
        j.object { j in
            j.field("@timestamp", UTCTime(unixNanos: clock.unixNanos(boot: at)))
            j.object("event") { j in
                j.field("kind", "event")
                j.field("category", ["process"])
                j.field("type", [action == "container-start" ? "start" : "end"])
                j.field("action", action)
                j.field("outcome", "success")
            }
            Self.container(s.info, into: &j)
            j.object("boxwatch") { j in
                j.field("attribution", "container")
                j.field("cgroup_path", s.info.cgroupPath)
                j.field("ktime_ns", at)
                j.field("qos", s.info.qos?.rawValue)
                if s.info.role != .workload { j.field("container_role", s.info.role.rawValue) }
                if s.info.rootless { j.field("rootless", true) }
                j.field("parent_container_id", s.info.parent?.rawValue)
                if !s.launchedBy.isEmpty { j.field("launched_by", s.launchedBy) }
                if case .exited = change {
                    if let ms = s.lifetimeMillis { j.field("lifetime_ms", Int64(ms.rounded())) }
                    j.object("events") { j in
                        for k in [EventKind.exec, .open, .connect] { j.field(named: k.rawValue, s.events[k] ?? 0) }
                    }
                }
            }
        }
        out += j.text
        out += "\n"
    }

    static func container(_ c: ContainerInfo, into j: inout JSONWriter) {
        j.object("container") { j in
            j.field("id", c.id.rawValue)
            j.field("runtime", c.runtime.rawValue)
            if let m = c.metadata {
                j.field("name", m.name)
                j.object("image") { $0.field("name", m.image) }
                if !m.labels.isEmpty {
                    j.object("labels") { j in
                        for key in m.labels.keys.sorted() { j.field(named: key, m.labels[key]) }
                    }
                }
            }
        }
        if let pod = c.podUID {
            j.object("orchestrator") { j in
                j.field("type", "kubernetes")
                j.object("resource") { j in
                    j.field("type", "pod")
                    j.field("id", pod)
                }
            }
        }
    }

    static func kindFields(_ e: Event, into j: inout JSONWriter) {
        switch e.detail {
        case .exec(let x):
            j.field("syscall", x.syscall.name)
            j.field("ret", x.result)
            if x.syscall == .execveat {
                j.field("dirfd", x.dirfd)
                j.field("at_flags", x.atFlags)
            }
            if x.filename.truncated { j.field("filename_truncated", true) }
            if x.filename.invalidUTF8 { j.field("filename_invalid_utf8", true) }
            if x.filename.fault { j.field("filename_read_error", true) }
            if x.argvTruncated { j.field("args_truncated", true) }
            if x.argvFault { j.field("args_read_error", true) }
            if x.argcIsLowerBound { j.field("args_count_lower_bound", true) }
            j.walkedPath("exe", x.executable, x.executableFlags)
        case .open(let o):
            j.field("syscall", o.syscall.name)
            j.field("ret", o.result)
            j.field("dirfd", o.dirfd)
            j.field("flags", o.flags)
            j.field("flags_names", Describe.openFlags(o.flags))
            j.field("mode", o.mode)
            if o.syscall == .openat2 { j.field("resolve", o.resolve) }
            j.field("path", o.path.known)
            j.walkedPath("directory", o.directory, o.directoryFlags)
            if o.path.truncated { j.field("path_truncated", true) }
            if o.path.invalidUTF8 { j.field("path_invalid_utf8", true) }
            if o.path.fault { j.field("path_read_error", true) }
        case .connect(let c):
            j.field("syscall", "connect")
            j.field("ret", c.result)
            j.field("fd", c.fd)
            j.field("family", c.address.familyName)
            j.field("socket_type", Describe.socketType(c.socketType))
            if let ip = c.address.ip, ip.isIPv4Mapped {
                j.field("address_raw", ip.description)
                j.field("ipv4_mapped", true)
            }
            if e.outcome == .pending { j.field("state", "pending") }
        case .fork(let child):
            j.field("child_pid", child)
        case .cgroup(let g):
            j.field("cgroup_event_id", g.id.rawValue)
            if g.hierarchy != 0 { j.field("cgroup_hierarchy", g.hierarchy) }
            j.field("cgroup_event_path", g.path.value)
            j.field("cgroup_level", g.level)
        }
    }

    static func category(_ kind: EventKind) -> String {
        switch kind {
        case .exec: return "process"
        case .open: return "file"
        case .connect: return "network"
        case .cgroupCreated, .cgroupRemoved: return "host"
        case .fork: return "process"
        }
    }

    static func type(_ e: Event) -> String {
        switch e.kind {
        case .exec: return "start"
        case .open:
            if case .open(let o) = e.detail, o.flags & 0o100 != 0 { return "creation" }
            return "access"
        case .connect: return "connection"
        case .cgroupCreated: return "creation"
        case .cgroupRemoved: return "deletion"
        case .fork: return "start"
        }
    }
}

/// Aligned columns for people: time, container, pid, comm, kind, detail, result.
public struct TextFormatter: EventFormatter {
    public var color: Bool

    public init(color: Bool) { self.color = color }

    public static let header =
        "TIME (UTC)       CONTAINER     PID      COMM             KIND     DETAIL -> RESULT"

    public func format(_ e: Event, attribution: Attribution, score: EventScore?, clock: WallClock, into out: inout String) {
        let h = e.header
        let time = UTCTime(unixNanos: clock.unixNanos(boot: h.bootTimeNanos)).clockMicros
        let who: String
        var extra = ""
        switch attribution {
        case .host: who = "host"
        case .container(let c):
            who = Self.quote(c.id.short)
            if c.role == .runtimeHelper { extra = " [runtime-helper]" }
        case .unknown(let path):
            who = "unknown"
            extra = " [cgroup \(Self.quote(path))]"
        }
        let result = Describe.result(e)
        out += time
        out += " "
        out += paint(cell(who, 13), color ? "36" : nil)
        out += " "
        out += cell(String(h.pid), 8)
        out += " "
        out += cell(Self.quote(h.comm), 16)
        out += " "
        out += paint(cell(e.kind == .cgroupCreated || e.kind == .cgroupRemoved ? "cgroup" : e.kind.rawValue, 8),
                     color ? "1" : nil)
        out += " "
        out += Self.detail(e) + extra
        out += " -> "
        out += paint(result, color && e.outcome == .failure ? "31" : nil)
        if let score, score.score > 0 {
            out += paint(" score=\(score.score) [" + score.reasons.map(\.signal.rawValue).joined(separator: ",") + "]", color ? "33" : nil)
        }
        out += "\n"
    }

    public func format(_ change: LifecycleChange, clock: WallClock, into out: inout String) {
        let s = change.state
        let at: UInt64, detail: String
        switch change {
        case .started(_, let t):
            at = t
            detail = "start \(s.info.runtime.rawValue) \(Self.quote(s.info.id.rawValue)) cgroup \(Self.quote(s.info.cgroupPath))"
                + (s.launchedBy.isEmpty ? "" : " by " + s.launchedBy.map(Self.quote).joined(separator: " < "))
        case .exited(_, let t):
            at = t
            let life = s.lifetimeMillis.map { " after \(Int($0.rounded())) ms" } ?? ""
            let counts = [EventKind.exec, .open, .connect].map { "\($0.rawValue)=\(s.events[$0] ?? 0)" }.joined(separator: " ")
            detail = "exit \(s.info.runtime.rawValue) \(Self.quote(s.info.id.rawValue))\(life), \(counts)"
        }
        out += UTCTime(unixNanos: clock.unixNanos(boot: at)).clockMicros
        out += " "
        out += paint(cell(Self.quote(s.info.id.short), 13), color ? "36" : nil)
        out += " "
        out += cell("-", 8)
        out += " "
        out += cell("-", 16)
        out += " "
        out += paint(cell("container", 8), color ? "1;35" : nil)
        out += " "
        out += detail
        out += "\n"
    }

    static func detail(_ e: Event) -> String {
        switch e.detail {
        case .exec(let x):
            var s = x.filename.known.map(quote) ?? "<unreadable>"
            if x.filename.truncated { s += "…" }
            let args = x.argv.map(quote).joined(separator: " ")
            s += " [" + clip(args, 160) + (x.argvTruncated ? " …" : "") + "]"
            return s
        case .open(let o):
            var s = o.path.known.map(quote) ?? "<unreadable>"
            if o.path.truncated { s += "…" }
            if o.dirfd != Describe.atFDCWD, !o.path.value.hasPrefix("/") { s += " dirfd=\(o.dirfd)" }
            if !o.path.value.hasPrefix("/"), let abs = o.absolutePath { s += " (" + quote(abs) + ")" }
            s += " " + Describe.openFlags(o.flags)
            return s
        case .connect(let c):
            if case .unix = c.address { return quote(c.address.description) }
            return (Describe.transport(c) ?? c.address.familyName) + " " + quote(c.address.description)
        case .cgroup(let g):
            return (e.kind == .cgroupCreated ? "mkdir " : "rmdir ") + quote(g.path.value) + " id=\(g.id)"
        case .fork(let child):
            return "child \(child)"
        }
    }

    func paint(_ s: String, _ code: String?) -> String {
        guard let code else { return s }
        return "\u{1b}[\(code)m" + s + "\u{1b}[0m"
    }

    func cell(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func clip(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(n)) + "…"
    }

    /// Shell-style quoting for anything a process or runtime controls (names,
    /// paths, arguments, IDs), so no value can forge a line or steer the
    /// terminal: C0 and C1 controls and bidirectional overrides are escaped.
    static func quote(_ s: String) -> String {
        if !s.isEmpty && s.unicodeScalars.allSatisfy({ !needsEscape($0) && $0.value > 0x20 && $0 != "'" && $0 != "\"" && $0 != "\\" }) {
            return s
        }
        var out = "'"
        for u in s.unicodeScalars {
            switch u {
            case "'": out += "\\'"
            case "\\": out += "\\\\"
            case _ where needsEscape(u):
                out += u.value <= 0xff ? "\\x" + pad(Int(u.value), 2, radix: 16) : "\\u{" + String(u.value, radix: 16) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "'"
    }

    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return v < 0x20 || (0x7f...0x9f).contains(v) || (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v)
            || v == 0x200e || v == 0x200f || v == 0x061c
    }
}
