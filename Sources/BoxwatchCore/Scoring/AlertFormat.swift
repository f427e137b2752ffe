/// How alerts and scores look: ECS alerts in JSON, a block that stands out
/// in the text tail. Everything comes from the alert itself, so a replay
/// prints the same alert lines as the live run.

extension ECSFormatter {
    public func format(_ a: Alert, clock: WallClock, into out: inout String) {
        var j = JSONWriter()
        j.object { j in
            j.field("@timestamp", UTCTime(unixNanos: clock.unixNanos(boot: a.at)))
            j.object("event") { j in
                j.field("kind", "alert")
                j.field("category", [a.container == nil ? "host" : "intrusion_detection"])
                j.field("type", ["indicator"])
                j.field("action", a.signal.rawValue)
                j.field("severity", a.severity.number)
                j.field("risk_score", a.risk)
                j.field("reason", a.reason)
            }
            j.object("rule") { j in
                j.field("id", "boxwatch." + a.signal.rawValue)
                j.field("name", Self.ruleName(a.signal))
                j.field("ruleset", "boxwatch container evasion")
                j.field("category", "containers")
            }
            if !a.techniques.isEmpty {
                j.object("threat") { j in
                    j.field("framework", "MITRE ATT&CK")
                    // ECS: a sub-technique (T1608.002) under its technique (T1608)
                    j.array("technique") { j in
                        for t in a.techniques {
                            j.object { j in
                                let parent = String(t.id.prefix { $0 != "." })
                                j.field("id", parent)
                                j.field("name", t.id == parent ? t.name : t.techniqueName)
                                j.field("reference", "https://attack.mitre.org/techniques/\(parent)/")
                                if t.id != parent {
                                    j.array("subtechnique") { j in
                                        j.object { j in
                                            j.field("id", t.id)
                                            j.field("name", t.name)
                                            j.field("reference", "https://attack.mitre.org/techniques/" + t.id.replacingSlashDot() + "/")
                                        }
                                    }
                                }
                            }
                        }
                    }
                    j.object("tactic") { $0.field("name", a.techniques[0].tactic) }
                }
            }
            if let c = a.container { Self.container(c, into: &j) }
            j.object("boxwatch") { j in
                j.object("alert") { j in
                    j.field("sequence", a.sequence)
                    j.field("signal", a.signal.rawValue)
                    j.field("severity", a.severity.rawValue)
                    j.field("risk", a.risk)
                    j.field("signals", a.signals.map(\.rawValue))
                    if let c = a.container { j.field("cgroup_path", c.cgroupPath) }
                    if !a.launchedBy.isEmpty { j.field("launched_by", a.launchedBy) }
                    j.array("evidence") { j in
                        for e in a.evidence {
                            j.object { j in
                                j.field("@timestamp", UTCTime(unixNanos: clock.unixNanos(boot: e.at)))
                                j.field("action", e.action)
                                if e.pid != 0 { j.field("pid", e.pid) }
                                j.field("process", e.comm)
                                j.field("detail", e.detail)
                                j.field("ktime_ns", e.at)
                            }
                        }
                    }
                    j.field("response", Alert.response(for: a.container))
                    j.field("ktime_ns", a.at)
                }
            }
        }
        out += j.text
        out += "\n"
    }

    static func reasons(_ reasons: [Reason], into j: inout JSONWriter) {
        j.array("reasons") { j in
            for r in reasons {
                j.object { j in
                    j.field("signal", r.signal.rawValue)
                    j.field("weight", r.weight)
                    j.field("detail", r.detail)
                }
            }
        }
    }

    static func ruleName(_ s: Signal) -> String {
        switch s {
        case .newContainer: return "New container"
        case .ephemeralContainer: return "Ephemeral container"
        case .iocDestination: return "Container connects to an IOC address"
        case .unexpectedDestination: return "Container connects to an external address never seen for its image"
        case .fileOffBaseline: return "Container file activity off its image's baseline"
        case .sensitiveFile: return "Container touches a sensitive file"
        case .activitySpike: return "Container activity spike"
        case .coverageDegraded: return "Sensor coverage degraded (events lost)"
        }
    }
}

extension ECSFormatter {
    public func format(_ loss: LossWindow, into out: inout String) {
        var j = JSONWriter()
        j.object { j in
            j.field("@timestamp", UTCTime(unixNanos: loss.to))
            j.object("event") { j in
                j.field("kind", "event")
                j.field("category", ["host"])
                j.field("type", ["info"])
                j.field("action", "lost")
                j.field("outcome", "failure")
            }
            j.object("boxwatch") { j in
                j.object("lost") { j in
                    j.field("total", loss.total)
                    for k in EventKind.allCases { j.field(named: k.rawValue, loss.byKind[k]) }
                    j.field("window_start", UTCTime(unixNanos: loss.from))
                    j.field("window_end", UTCTime(unixNanos: loss.to))
                }
            }
        }
        out += j.text
        out += "\n"
    }
}

extension TextFormatter {
    public func format(_ loss: LossWindow, into out: inout String) {
        out += UTCTime(unixNanos: loss.to).clockMicros + " " + cell("-", 13) + " " + cell("-", 8) + " " + cell("-", 16) + " "
        out += paint(cell("lost", 8), color ? "1;31" : nil)
        out += " LOST \(loss.total) events (\(loss.kinds)) since " + UTCTime(unixNanos: loss.from).clockMicros + "\n"
    }

    public func format(_ a: Alert, clock: WallClock, into out: inout String) {
        let time = UTCTime(unixNanos: clock.unixNanos(boot: a.at)).clockMicros
        let who: String
        if let c = a.container {
            var s = "\(c.runtime.rawValue) \(Self.quote(c.id.rawValue))"
            if let m = c.metadata { s += " name \(Self.quote(m.name)) image \(Self.quote(m.image))" }
            who = s
        } else {
            who = "sensor"
        }
        let head = "!! ALERT \(a.severity.rawValue.uppercased()) #\(a.sequence) \(a.signal.rawValue) risk=\(a.risk)"
        out += time + " " + paint(head, color ? "1;41;97" : nil) + " " + who + "\n"
        out += "   why:      " + Self.quote(a.reason) + " [signals: " + a.signals.map(\.rawValue).joined(separator: ",") + "]\n"
        if !a.techniques.isEmpty {
            out += "   mitre:    " + a.techniques.map { "\($0.id) \($0.id.contains(".") ? $0.techniqueName + ": " + $0.name : $0.name)" }.joined(separator: "; ") + "\n"
        }
        if !a.launchedBy.isEmpty {
            out += "   launched: " + a.launchedBy.map(Self.quote).joined(separator: " < ") + "\n"
        }
        for e in a.evidence {
            out += "   evidence: " + UTCTime(unixNanos: clock.unixNanos(boot: e.at)).clockMicros + " "
                + (e.pid != 0 ? "\(Self.quote(e.comm))[\(e.pid)] " : "") + e.action + " " + Self.quote(e.detail) + "\n"
        }
        for (i, step) in Alert.response(for: a.container).enumerated() {
            out += "   respond:  \(i + 1). \(step)\n"
        }
    }
}

extension String {
    /// "T1608.002" -> "T1608/002" (the ATT&CK site's URL form).
    func replacingSlashDot() -> String { String(map { $0 == "." ? "/" : $0 }) }
}
