import CYAML

/// The rules-and-settings file (`boxwatch.yaml`, docs/config.md): YAML read
/// with libyaml's event API into a small tree, then checked key by key into a
/// `ScoringConfig`. Every problem is a `ConfigError` with the file, the
/// 1-based line and column libyaml marked, and a sentence naming the key.
public enum ConfigFile {
    /// Collections nested deeper than this are refused (the schema needs 4).
    public static let maxDepth = 64
    /// Scalars plus collections; more are refused.
    public static let maxNodes = 100_000

    /// Parses the file's text. Empty text (or only comments) gives the defaults.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ScoringConfig {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses the file's raw bytes; use this for text read from disk, so that
    /// bytes that are not UTF-8 are reported (a `String` would have replaced them).
    public static func parse(bytes: [UInt8], file: String) throws(ConfigError) -> ScoringConfig {
        try TextScan.checkEncoding(bytes, file: file)
        guard let root = try YAMLTree.read(bytes, file: file) else { return ScoringConfig() }
        return try ConfigDecoder(file: file).config(root)
    }

    /// A complete file with every key at its default value; parses to `ScoringConfig()`.
    public static let example = """
        # boxwatch.yaml: the scoring engine's rules and settings (docs/config.md).
        # Every key is optional. The values below are the defaults, so this file,
        # as written, changes nothing. Unknown keys are errors.

        # Container risk (the sum of its recent signals' weights) at which an
        # alert is raised. Integer, 1 to 1000.
        threshold: 60

        # One alert per container and signal within this window; signals older
        # than it no longer add to the container's risk. Seconds, > 0.
        window_seconds: 300

        learning:
          # How long an image's baseline learns, from the image's first event,
          # before deviations from it score. Seconds, >= 0.
          seconds: 600
          # ...and at least this many containers of the image must have run. Integer, >= 1.
          min_containers: 1
          # true: baselines learn and nothing ever alerts.
          mode: false

        # A container that lived less than this is ephemeral. Seconds, > 0.
        ephemeral_seconds: 120

        # Activity spike: a one-second count of events above `factor` times the
        # container's moving average and above `min_per_second`, once the
        # container has `warmup_seconds` of history.
        spike:
          factor: 10             # > 1
          min_per_second: 200    # > 0
          warmup_seconds: 30     # >= 0

        # Each signal's weight (integer, 0 to 100: points it adds to an event's
        # score and its container's risk) and whether it is on. A signal not
        # listed keeps its default.
        signals:
          new_container:          {weight: 10, enabled: true}
          ephemeral_container:    {weight: 20, enabled: true}
          ioc_destination:        {weight: 70, enabled: true}
          unexpected_destination: {weight: 30, enabled: true}
          file_off_baseline:      {weight: 30, enabled: true}
          sensitive_file:         {weight: 60, enabled: true}
          activity_spike:         {weight: 30, enabled: true}
          coverage_degraded:      {weight: 60, enabled: true}

        # Opens and execs of these paths are sensitive. Globs: `*` matches within
        # one path component; a trailing "/" covers the whole tree. Each must
        # start with "/". Setting this list REPLACES the default list below;
        # to add to it, use sensitive_paths_extra.
        sensitive_paths:
          - /etc/shadow
          - /etc/gshadow
          - /etc/sudoers
          - /etc/sudoers.d/
          - /root/.ssh/
          - /home/*/.ssh/
          - /root/.aws/
          - /home/*/.aws/
          - /root/.kube/
          - /home/*/.kube/
          - /root/.docker/config.json
          - /home/*/.docker/config.json
          - /var/run/docker.sock
          - /run/docker.sock
          - /run/containerd/containerd.sock
          - /run/crio/crio.sock
          - /run/podman/podman.sock
          - /var/run/secrets/kubernetes.io/
          - /proc/*/environ
          - /proc/*/mem
          - /proc/kcore
          - /host/
          - /hostfs/
          - /rootfs/
        # Paths appended to sensitive_paths, e.g. [/srv/app/secrets/].
        sensitive_paths_extra: []

        # Destinations that are not "external" (besides loopback and link-local).
        # Addresses or CIDR ranges; setting this list replaces the default.
        internal_networks:
          - 10.0.0.0/8
          - 172.16.0.0/12
          - 192.168.0.0/16
          - 100.64.0.0/10
          - fc00::/7

        # Known-bad destinations (IOCs): addresses or CIDR ranges, e.g. [203.0.113.7, 198.51.100.0/24].
        ioc: []
        # IOC list files (one address or range per line, `#` comments), relative
        # to this file's directory, e.g. [iocs/feed.txt].
        ioc_files: []

        # Where baselines persist, e.g. /var/lib/boxwatch; null keeps them in memory only.
        state_dir: null

        # Baseline bounds.
        baseline:
          max_entries: 4096      # entries per image, >= 16
          max_images: 256        # images kept, >= 1

        # Allowlist. A rule matches when every matcher it gives matches (globs
        # with `*`); it needs at least one of image, container_name,
        # cgroup_prefix, launched_by, destinations, paths. `signals` limits the
        # rule to those signals (absent: all signals). For example:
        #
        # allow:
        #   - image: "registry.local/ci/*"
        #     container_name: "build-*"
        #     cgroup_prefix: /system.slice/gitlab-runner.service
        #     launched_by: gitlab-runner
        #     destinations: [10.0.0.0/8]
        #     paths: [/workspace/]
        #     signals: [file_off_baseline]
        allow: []

        """
}

// The pieces, kept inside ConfigFile so their short names stay out of the module.
extension ConfigFile {
    // MARK: - Positions

    /// A 1-based place in the file.
    struct Mark: Equatable {
        var line: Int
        var column: Int

        init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }

        /// From libyaml's 0-based mark.
        init(_ m: yaml_mark_t) {
            line = Int(m.line) + 1
            column = Int(m.column) + 1
        }
    }

    /// Walks the raw bytes as UTF-8 counting lines and columns the way libyaml
    /// does (columns in characters; CR LF, CR, LF, NEL, LS and PS end lines).
    enum TextScan {
        struct Step {
            var offset: Int
            var length: Int
            var scalar: UInt32
            var mark: Mark
        }

        enum Failure {
            case invalid(offset: Int, mark: Mark)
        }

        /// Calls `body` for each character until it returns false; returns the
        /// first invalid UTF-8 byte, if one was reached.
        @discardableResult
        static func walk(_ bytes: [UInt8], _ body: (Step) -> Bool) -> Failure? {
            var i = 0, line = 1, column = 1
            var afterCR = false
            let n = bytes.count
            while i < n {
                let mark = Mark(line: line, column: column)
                guard let (scalar, length) = decode(bytes, at: i) else { return .invalid(offset: i, mark: mark) }
                if !body(Step(offset: i, length: length, scalar: scalar, mark: mark)) { return nil }
                switch scalar {
                case 0x0A:
                    if !afterCR { line += 1 }
                    column = 1
                case 0x0D, 0x85, 0x2028, 0x2029:
                    line += 1
                    column = 1
                default:
                    column += 1
                }
                afterCR = scalar == 0x0D
                i += length
            }
            return nil
        }

        /// One UTF-8 sequence: shortest form, no surrogates, at most U+10FFFF.
        static func decode(_ b: [UInt8], at i: Int) -> (UInt32, Int)? {
            let lead = b[i]
            if lead < 0x80 { return (UInt32(lead), 1) }
            let length: Int, minimum: UInt32
            var value: UInt32
            switch lead {
            case 0xC0...0xDF: (length, minimum, value) = (2, 0x80, UInt32(lead & 0x1F))
            case 0xE0...0xEF: (length, minimum, value) = (3, 0x800, UInt32(lead & 0x0F))
            case 0xF0...0xF7: (length, minimum, value) = (4, 0x10000, UInt32(lead & 0x07))
            default: return nil
            }
            guard i + length <= b.count else { return nil }
            for k in 1..<length {
                let c = b[i + k]
                guard c & 0xC0 == 0x80 else { return nil }
                value = value << 6 | UInt32(c & 0x3F)
            }
            guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return nil }
            return (value, length)
        }

        /// Refuses bytes that are not UTF-8 and NUL bytes, at their line and column.
        static func checkEncoding(_ bytes: [UInt8], file: String) throws(ConfigError) {
            var nul: Mark?
            let failure = walk(bytes) { c in
                if c.scalar == 0 { nul = c.mark; return false }
                return true
            }
            if let nul {
                throw ConfigError(file: file, line: nul.line, column: nul.column,
                                  "the file contains a NUL byte (a config file is UTF-8 text)")
            }
            if case .invalid(let offset, let mark) = failure {
                let hex = String(bytes[offset], radix: 16, uppercase: true)
                throw ConfigError(file: file, line: mark.line, column: mark.column,
                                  "the file is not valid UTF-8 (byte 0x\(hex.count == 1 ? "0" : "")\(hex))")
            }
        }

        /// The line and column of a byte offset (libyaml's reader errors give only the offset).
        static func mark(ofOffset offset: Int, in bytes: [UInt8]) -> Mark {
            var found = Mark(line: 1, column: 1)
            var last = Mark(line: 1, column: 1)
            var reached = false
            walk(bytes) { c in
                if c.offset + c.length > offset { found = c.mark; reached = true; return false }
                last = c.mark
                return true
            }
            if reached { return found }
            // At the end: one past the last character.
            return bytes.isEmpty ? last : Mark(line: last.line, column: last.column + 1)
        }

        /// The character at a 1-based mark, if there is one.
        static func scalar(at mark: Mark, in bytes: [UInt8]) -> UInt32? {
            var result: UInt32?
            walk(bytes) { c in
                if c.mark == mark { result = c.scalar; return false }
                return c.mark.line <= mark.line
            }
            return result
        }
    }

    // MARK: - The YAML tree

    /// The document as libyaml read it: scalars keep their text and whether they
    /// were quoted (or block) rather than plain; every node keeps its start mark.
    struct YAMLNode {
        enum Value {
            case scalar(String, plain: Bool)
            case sequence([YAMLNode])
            case mapping([(key: YAMLNode, value: YAMLNode)])
        }

        var value: Value
        var mark: Mark
    }

    enum YAMLTree {
        /// Reads the single document; nil when the stream has none (empty text,
        /// only comments). Anchors, aliases and tags are refused.
        static func read(_ bytes: [UInt8], file: String) throws(ConfigError) -> YAMLNode? {
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else {
                throw ConfigError(file: file, line: 0, column: 0, "could not start the YAML parser (out of memory)")
            }
            defer { yaml_parser_delete(parser) }
            // libyaml reads from this copy while it parses; the buffer outlives the loop.
            let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            defer { input.deallocate() }
            _ = input.initialize(from: bytes)
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)

            struct Frame {
                var isMapping: Bool
                var mark: Mark
                var children: [YAMLNode] = []
            }
            var stack: [Frame] = []
            var root: YAMLNode?
            var documents = 0
            var nodes = 0

            func fail(_ m: yaml_mark_t, _ message: String) -> ConfigError {
                let mark = Mark(m)
                return ConfigError(file: file, line: mark.line, column: mark.column, message)
            }
            func text(_ p: UnsafeMutablePointer<yaml_char_t>?, _ length: Int? = nil) -> String {
                guard let p else { return "" }
                let count = length ?? strlenYAML(p)
                return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
            }
            func refuseDecorations(_ event: yaml_event_t, anchor: UnsafeMutablePointer<yaml_char_t>?,
                                   tag: UnsafeMutablePointer<yaml_char_t>?) throws(ConfigError) {
                if let anchor {
                    throw fail(event.start_mark, "YAML anchors (&\(text(anchor))) are not supported; write each value out")
                }
                if tag != nil {
                    throw fail(event.start_mark, "YAML tags are not supported; write the plain value")
                }
            }
            func count(_ event: yaml_event_t) throws(ConfigError) {
                nodes += 1
                if nodes > ConfigFile.maxNodes {
                    throw fail(event.start_mark, "too many values (more than \(ConfigFile.maxNodes))")
                }
            }
            func add(_ node: YAMLNode) {
                if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
            }

            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(parser, &event) == 1 else {
                    throw syntaxError(parser.pointee, bytes, file: file)
                }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_DOCUMENT_START_EVENT:
                    documents += 1
                    if documents > 1 {
                        throw fail(event.start_mark, "a second YAML document (the file must hold one)")
                    }
                case YAML_ALIAS_EVENT:
                    throw fail(event.start_mark,
                               "YAML aliases (*\(text(event.data.alias.anchor))) are not supported; write each value out")
                case YAML_SCALAR_EVENT:
                    let s = event.data.scalar
                    try refuseDecorations(event, anchor: s.anchor, tag: s.tag)
                    try count(event)
                    let bytes = UnsafeBufferPointer(start: s.value, count: s.length)
                    if bytes.contains(0) {
                        throw fail(event.start_mark, "a value holds a NUL character")
                    }
                    add(YAMLNode(value: .scalar(text(s.value, s.length), plain: s.style == YAML_PLAIN_SCALAR_STYLE),
                                 mark: Mark(event.start_mark)))
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let isMapping = event.type == YAML_MAPPING_START_EVENT
                    if isMapping {
                        try refuseDecorations(event, anchor: event.data.mapping_start.anchor, tag: event.data.mapping_start.tag)
                    } else {
                        try refuseDecorations(event, anchor: event.data.sequence_start.anchor, tag: event.data.sequence_start.tag)
                    }
                    try count(event)
                    if stack.count >= ConfigFile.maxDepth {
                        throw fail(event.start_mark, "nested deeper than \(ConfigFile.maxDepth) levels")
                    }
                    stack.append(Frame(isMapping: isMapping, mark: Mark(event.start_mark)))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    let frame = stack.removeLast()
                    if frame.isMapping {
                        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
                        pairs.reserveCapacity(frame.children.count / 2)
                        var i = 0
                        while i + 1 < frame.children.count {
                            pairs.append((frame.children[i], frame.children[i + 1]))
                            i += 2
                        }
                        add(YAMLNode(value: .mapping(pairs), mark: frame.mark))
                    } else {
                        add(YAMLNode(value: .sequence(frame.children), mark: frame.mark))
                    }
                case YAML_STREAM_END_EVENT:
                    return root
                default:
                    break  // stream start, document end, no event
                }
            }
        }

        private static func hex4(_ v: UInt32) -> String {
            let h = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, 4 - h.count)) + h
        }

        private static func strlenYAML(_ p: UnsafeMutablePointer<yaml_char_t>) -> Int {
            var n = 0
            while p[n] != 0 { n += 1 }
            return n
        }

        /// libyaml's own words for a syntax error, at its problem mark (reader
        /// errors carry only a byte offset, turned here into a line and column).
        static func syntaxError(_ p: yaml_parser_t, _ bytes: [UInt8], file: String) -> ConfigError {
            let problem = p.problem.map { String(cString: $0) } ?? "unknown error"
            switch p.error {
            case YAML_MEMORY_ERROR:
                return ConfigError(file: file, line: 0, column: 0, "YAML parser ran out of memory")
            case YAML_READER_ERROR:
                let mark = TextScan.mark(ofOffset: Int(p.problem_offset), in: bytes)
                var message = "YAML syntax error: \(problem)"
                if p.problem_value != -1 {
                    message += " (character U+\(hex4(UInt32(bitPattern: p.problem_value))))"
                }
                return ConfigError(file: file, line: mark.line, column: mark.column, message)
            default:
                let mark = Mark(p.problem_mark)
                var message = "YAML syntax error: \(problem)"
                if let context = p.context {
                    let at = Mark(p.context_mark)
                    message += " (\(String(cString: context)) at \(at.line):\(at.column))"
                }
                if TextScan.scalar(at: mark, in: bytes) == 0x09 {
                    message += "; indent with spaces, not tabs"
                }
                return ConfigError(file: file, line: mark.line, column: mark.column, message)
            }
        }
    }

    // MARK: - Settings from the tree

    struct ConfigDecoder {
        let file: String

        static let topKeys = [
            "threshold", "window_seconds", "learning", "ephemeral_seconds", "spike", "signals",
            "sensitive_paths", "sensitive_paths_extra", "internal_networks", "ioc", "ioc_files",
            "state_dir", "baseline", "allow",
        ]
        static let learningKeys = ["seconds", "min_containers", "mode"]
        static let spikeKeys = ["factor", "min_per_second", "warmup_seconds"]
        static let signalKeys = ["weight", "enabled"]
        static let baselineKeys = ["max_entries", "max_images"]
        static let matcherKeys = ["image", "container_name", "cgroup_prefix", "launched_by", "destinations", "paths"]
        static let ruleKeys = matcherKeys + ["signals"]

        func fail(_ node: YAMLNode, _ message: String) -> ConfigError {
            ConfigError(file: file, line: node.mark.line, column: node.mark.column, message)
        }

        func config(_ root: YAMLNode) throws(ConfigError) -> ScoringConfig {
            // A document with nothing in it ("---" alone) is an empty file.
            if case .scalar(let s, plain: true) = root.value, s.isEmpty { return ScoringConfig() }
            guard case .mapping = root.value else {
                throw fail(root, "the top level must be a mapping of settings (key: value lines), not \(Self.describe(root))")
            }
            var c = ScoringConfig()
            var sensitive: [String]?
            var extra: [String] = []
            for (key, v) in try entries(root, in: nil, known: Self.topKeys) {
                switch key {
                case "threshold": c.threshold = try int(v, key, 1...1000)
                case "window_seconds": c.windowSeconds = try number(v, key, .greaterThan(0))
                case "learning":
                    for (k, x) in try entries(v, in: key, known: Self.learningKeys) {
                        let name = "\(key).\(k)"
                        switch k {
                        case "seconds": c.learningSeconds = try number(x, name, .atLeast(0))
                        case "min_containers": c.learningMinContainers = try int(x, name, 1...Int.max)
                        default: c.learningMode = try bool(x, name)
                        }
                    }
                case "ephemeral_seconds": c.ephemeralSeconds = try number(v, key, .greaterThan(0))
                case "spike":
                    for (k, x) in try entries(v, in: key, known: Self.spikeKeys) {
                        let name = "\(key).\(k)"
                        switch k {
                        case "factor": c.spikeFactor = try number(x, name, .greaterThan(1))
                        case "min_per_second": c.spikeMinPerSecond = try number(x, name, .greaterThan(0))
                        default: c.spikeWarmupSeconds = try number(x, name, .atLeast(0))
                        }
                    }
                case "signals":
                    for (s, x) in try entries(v, in: key, known: Signal.allCases.map(\.rawValue), noun: "signal") {
                        let signal = Signal(rawValue: s)!
                        var settings = c.signals[signal] ?? ScoringConfig.defaultWeights[signal]!
                        for (k, y) in try entries(x, in: "\(key).\(s)", known: Self.signalKeys) {
                            let name = "\(key).\(s).\(k)"
                            if k == "weight" { settings.weight = try int(y, name, 0...100) }
                            else { settings.enabled = try bool(y, name) }
                        }
                        c.signals[signal] = settings
                    }
                case "sensitive_paths": sensitive = try list(v, key) { n throws(ConfigError) in try path(n, key) }
                case "sensitive_paths_extra": extra = try list(v, key) { n throws(ConfigError) in try path(n, key) }
                case "internal_networks": c.internalNetworks = try list(v, key) { n throws(ConfigError) in try network(n, key) }
                case "ioc": c.iocEntries = try list(v, key) { n throws(ConfigError) in try network(n, key) }
                case "ioc_files": c.iocFiles = try list(v, key) { n throws(ConfigError) in try string(n, key) }
                case "state_dir": c.stateDirectory = Self.isNull(v) ? nil : try string(v, key)
                case "baseline":
                    for (k, x) in try entries(v, in: key, known: Self.baselineKeys) {
                        let name = "\(key).\(k)"
                        if k == "max_entries" { c.baselineMaxEntries = try int(x, name, 16...Int.max) }
                        else { c.baselineMaxImages = try int(x, name, 1...Int.max) }
                    }
                default: // allow
                    c.allow = try list(v, key) { n throws(ConfigError) in try rule(n) }
                }
            }
            c.sensitivePaths = (sensitive ?? ScoringConfig.defaultSensitivePaths) + extra
            return c
        }

        func rule(_ node: YAMLNode) throws(ConfigError) -> AllowRule {
            guard case .mapping = node.value else {
                throw fail(node, "each allow rule must be a mapping (image: ..., paths: [...]), not \(Self.describe(node))")
            }
            var r = AllowRule()
            r.source = "\(file):\(node.mark.line)"
            for (k, x) in try entries(node, in: "allow rule", known: Self.ruleKeys) {
                let name = "allow.\(k)"
                switch k {
                case "image": r.image = try string(x, name)
                case "container_name": r.containerName = try string(x, name)
                case "cgroup_prefix": r.cgroupPrefix = try path(x, name)
                case "launched_by": r.launchedBy = try string(x, name)
                case "destinations": r.destinations = try list(x, name) { n throws(ConfigError) in try network(n, name) }
                case "paths": r.paths = try list(x, name) { n throws(ConfigError) in try path(n, name) }
                default:
                    r.signals = Set(try list(x, name) { n throws(ConfigError) in try signal(n, name) })
                }
            }
            let matched = r.image != nil || r.containerName != nil || r.cgroupPrefix != nil || r.launchedBy != nil
                || !r.destinations.isEmpty || !r.paths.isEmpty
            guard matched else {
                throw fail(node, "an allow rule needs at least one of \(Self.matcherKeys.joined(separator: ", ")) "
                    + "(empty lists do not count)")
            }
            return r
        }

        // MARK: Mappings

        /// The mapping's keys, checked: names (not collections), known, each once.
        /// An empty value (`learning:` with everything under it commented out) is
        /// an empty mapping.
        func entries(_ node: YAMLNode, in context: String?, known: [String], noun: String = "key")
            throws(ConfigError) -> [(String, YAMLNode)]
        {
            if Self.isNull(node) { return [] }
            guard case .mapping(let pairs) = node.value else {
                throw fail(node, "\(context ?? "the top level") must be a mapping (key: value), not \(Self.describe(node))")
            }
            var seen: [String: Int] = [:]
            var result: [(String, YAMLNode)] = []
            for (k, v) in pairs {
                guard case .scalar(let name, _) = k.value else {
                    throw fail(k, "a key must be a name, not \(Self.describe(k))")
                }
                if let first = seen[name] {
                    throw fail(k, "duplicate key \(Self.quote(name)) (first given on line \(first))")
                }
                guard known.contains(name) else {
                    var message = "unknown \(noun) \(Self.quote(name))"
                    if let context, noun == "key" { message += " in \(context)" }
                    if let guess = Self.suggestion(for: name, among: known) {
                        message += " (did you mean \(Self.quote(guess))?)"
                    } else {
                        message += "; expected one of: \(known.joined(separator: ", "))"
                    }
                    throw fail(k, message)
                }
                seen[name] = k.mark.line
                result.append((name, v))
            }
            return result
        }

        /// The known name that is unmistakably meant: the same letters in another
        /// spelling (`windowSeconds`), or the single nearest within a few edits.
        static func suggestion(for name: String, among known: [String]) -> String? {
            func letters(_ s: String) -> String { s.lowercased().filter { $0.isLetter || $0.isNumber } }
            if let same = known.first(where: { letters($0) == letters(name) }) { return same }
            guard name.count <= 100 else { return nil }
            let typed = Array(name.lowercased())
            let scored = known.map { ($0, editDistance(typed, Array($0))) }
            guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
            let limit = max(1, min(3, typed.count / 3))
            guard best.1 <= limit, scored.filter({ $0.1 == best.1 }).count == 1 else { return nil }
            return best.0
        }

        static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
            if a.isEmpty { return b.count }
            var previous = Array(0...b.count)
            var current = previous
            for i in 1...a.count {
                current[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                swap(&previous, &current)
            }
            return previous[b.count]
        }

        // MARK: Values

        /// Every number also has a ceiling (seconds: 115 days), so no
        /// setting can overflow the nanosecond arithmetic it feeds.
        enum Bound {
            case greaterThan(Double), atLeast(Double)
            static let ceiling = 10_000_000.0

            func holds(_ x: Double) -> Bool {
                guard x <= Self.ceiling else { return false }
                switch self {
                case .greaterThan(let b): return x > b
                case .atLeast(let b): return x >= b
                }
            }

            var phrase: String {
                switch self {
                case .greaterThan(let b): "a number greater than \(ConfigDecoder.format(b)) and at most 10000000"
                case .atLeast(let b): "a number of at least \(ConfigDecoder.format(b)) and at most 10000000"
                }
            }
        }

        static func format(_ x: Double) -> String {
            x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
        }

        func int(_ node: YAMLNode, _ name: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
            let phrase = range.upperBound == .max
                ? "an integer of at least \(range.lowerBound)"
                : "an integer from \(range.lowerBound) to \(range.upperBound)"
            guard case .scalar(let s, plain: true) = node.value, Self.isInteger(s),
                  let n = Int(s), range.contains(n)
            else { throw fail(node, "\(name) must be \(phrase), not \(Self.describe(node))") }
            return n
        }

        func number(_ node: YAMLNode, _ name: String, _ bound: Bound) throws(ConfigError) -> Double {
            guard case .scalar(let s, plain: true) = node.value, Self.isDecimal(s),
                  let x = Double(s), x.isFinite, bound.holds(x)
            else { throw fail(node, "\(name) must be \(bound.phrase), not \(Self.describe(node))") }
            return x
        }

        func bool(_ node: YAMLNode, _ name: String) throws(ConfigError) -> Bool {
            if case .scalar(let s, plain: true) = node.value {
                if s == "true" { return true }
                if s == "false" { return false }
            }
            throw fail(node, "\(name) must be true or false, not \(Self.describe(node))")
        }

        /// Any non-empty scalar, quoted or plain (a plain `2024` is the text "2024").
        func string(_ node: YAMLNode, _ name: String) throws(ConfigError) -> String {
            guard case .scalar(let s, let plain) = node.value, !(plain && Self.isNull(node)) else {
                throw fail(node, "\(name) must be a string, not \(Self.describe(node))")
            }
            guard !s.isEmpty else { throw fail(node, "\(name) must not be an empty string") }
            return s
        }

        func path(_ node: YAMLNode, _ name: String) throws(ConfigError) -> String {
            let s = try string(node, name)
            guard s.hasPrefix("/") else {
                throw fail(node, "\(name): \(Self.quote(s)) must be an absolute path (start with \"/\")")
            }
            return s
        }

        func network(_ node: YAMLNode, _ name: String) throws(ConfigError) -> IPNetwork {
            let s = try string(node, name)
            guard let n = IPNetwork(s) else {
                throw fail(node, "\(name): \(Self.quote(s)) is not an IPv4/IPv6 address or CIDR range")
            }
            return n
        }

        func signal(_ node: YAMLNode, _ name: String) throws(ConfigError) -> Signal {
            let s = try string(node, name)
            guard let signal = Signal(rawValue: s) else {
                let known = Signal.allCases.map(\.rawValue)
                var message = "\(name): unknown signal \(Self.quote(s))"
                if let guess = Self.suggestion(for: s, among: known) {
                    message += " (did you mean \(Self.quote(guess))?)"
                } else {
                    message += "; expected one of: \(known.joined(separator: ", "))"
                }
                throw fail(node, message)
            }
            return signal
        }

        /// A list, block (`- x` lines) or flow (`[x, y]`); an empty value is not
        /// an empty list (write `[]`), since some lists replace a default.
        func list<T>(_ node: YAMLNode, _ name: String, _ element: (YAMLNode) throws(ConfigError) -> T)
            throws(ConfigError) -> [T]
        {
            guard case .sequence(let items) = node.value else {
                throw fail(node, "\(name) must be a list ([a, b] or \"- a\" lines; [] for none), not \(Self.describe(node))")
            }
            var result: [T] = []
            result.reserveCapacity(items.count)
            for item in items { result.append(try element(item)) }
            return result
        }

        // MARK: Scalars

        static func isNull(_ node: YAMLNode) -> Bool {
            guard case .scalar(let s, plain: true) = node.value else { return false }
            return ["", "~", "null", "Null", "NULL"].contains(s)
        }

        /// YAML 1.2 core integers in decimal: `[-+]?[0-9]+`.
        static func isInteger(_ s: String) -> Bool {
            var u = Substring(s).utf8[...]
            if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
            return !u.isEmpty && u.allSatisfy { (0x30...0x39).contains($0) }
        }

        /// YAML 1.2 core numbers: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
        /// (no .inf, .nan, hex or underscores).
        static func isDecimal(_ s: String) -> Bool {
            let u = Array(s.utf8)
            var i = 0
            func digits() -> Int {
                let start = i
                while i < u.count, (0x30...0x39).contains(u[i]) { i += 1 }
                return i - start
            }
            if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
            var mantissa = digits()
            if i < u.count, u[i] == UInt8(ascii: ".") {
                i += 1
                mantissa += digits()
            }
            guard mantissa > 0 else { return false }
            if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
                i += 1
                if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
                guard digits() > 0 else { return false }
            }
            return i == u.count
        }

        /// The value as a message shows it: `"abc"`, `the quoted string "60"`, `a list`.
        static func describe(_ node: YAMLNode) -> String {
            switch node.value {
            case .scalar(let s, let plain):
                if plain && s.isEmpty { return "an empty value" }
                return plain ? quote(s) : "the quoted string \(quote(s))"
            case .sequence: return "a list"
            case .mapping: return "a mapping"
            }
        }

        /// Double-quoted with escapes, cut at 80 characters.
        static func quote(_ s: String) -> String {
            let cut = s.count > 80
            let q = String(s.prefix(80)).debugDescription
            return cut ? String(q.dropLast()) + "...\"" : q
        }
    }
}
