import XCTest
@testable import BoxwatchCore

final class ConfigFileTests: XCTestCase {
    static let file = "boxwatch.yaml"

    func parse(_ text: String) throws -> ScoringConfig {
        try ConfigFile.parse(text, file: Self.file)
    }

    func testEmptyTextGivesDefaults() throws {
        for text in ["", "\n\n", "# only a comment\n\n   # another\n", "---\n", "---\n...\n", "  \n"] {
            XCTAssertEqual(try parse(text), ScoringConfig(), text.debugDescription)
        }
    }

    func testExampleParsesToDefaults() throws {
        XCTAssertEqual(try parse(ConfigFile.example), ScoringConfig())
        XCTAssertEqual(try ConfigFile.parse(bytes: Array(ConfigFile.example.utf8), file: Self.file), ScoringConfig())
    }

    func testExampleNamesEveryKey() {
        let d = ConfigFile.ConfigDecoder.self
        for key in d.topKeys + d.learningKeys + d.spikeKeys + d.baselineKeys + Signal.allCases.map(\.rawValue) {
            XCTAssertTrue(ConfigFile.example.contains("\(key):"), key)
        }
    }

    func testEveryKeySetsItsField() throws {
        let text = """
            threshold: 75
            window_seconds: 120.5
            learning:
              seconds: 0
              min_containers: 3
              mode: true
            ephemeral_seconds: 45
            spike:
              factor: 2.5
              min_per_second: 1e3
              warmup_seconds: 0
            signals:
              ioc_destination: {weight: 90}
              new_container:
                enabled: false
              coverage_degraded: {weight: 0, enabled: true}
            sensitive_paths: [/etc/shadow, "/srv/*/secrets/"]
            sensitive_paths_extra:
              - /opt/keys/
            internal_networks: [10.0.0.0/8, "fd00::/8"]
            ioc:
              - 203.0.113.7
              - 198.51.100.0/24
              - "2001:db8::/32"
            ioc_files: [feeds/a.txt, /etc/boxwatch/b.txt]
            state_dir: /var/lib/boxwatch
            baseline:
              max_entries: 16
              max_images: 1
            allow:
              - image: "registry.local/ci/*"
                container_name: build-*
                cgroup_prefix: /system.slice/gitlab-runner.service
                launched_by: gitlab-runner
                destinations: [10.0.0.0/8]
                paths: [/workspace/]
                signals: [file_off_baseline, unexpected_destination]
              - {launched_by: cron}

            """
        let c = try parse(text)
        XCTAssertEqual(c.threshold, 75)
        XCTAssertEqual(c.windowSeconds, 120.5)
        XCTAssertEqual(c.learningSeconds, 0)
        XCTAssertEqual(c.learningMinContainers, 3)
        XCTAssertEqual(c.learningMode, true)
        XCTAssertEqual(c.ephemeralSeconds, 45)
        XCTAssertEqual(c.spikeFactor, 2.5)
        XCTAssertEqual(c.spikeMinPerSecond, 1000)
        XCTAssertEqual(c.spikeWarmupSeconds, 0)
        XCTAssertEqual(c.signals, [
            .newContainer: SignalSettings(weight: 10, enabled: false),
            .ephemeralContainer: SignalSettings(weight: 20),
            .iocDestination: SignalSettings(weight: 90),
            .unexpectedDestination: SignalSettings(weight: 30),
            .fileOffBaseline: SignalSettings(weight: 30),
            .sensitiveFile: SignalSettings(weight: 60),
            .activitySpike: SignalSettings(weight: 30),
            .coverageDegraded: SignalSettings(weight: 0),
        ])
        XCTAssertEqual(c.sensitivePaths, ["/etc/shadow", "/srv/*/secrets/", "/opt/keys/"])
        XCTAssertEqual(c.internalNetworks.map(\.text), ["10.0.0.0/8", "fd00::/8"])
        XCTAssertEqual(c.iocEntries.map(\.text), ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32"])
        XCTAssertEqual(c.iocFiles, ["feeds/a.txt", "/etc/boxwatch/b.txt"])
        XCTAssertEqual(c.stateDirectory, "/var/lib/boxwatch")
        XCTAssertEqual(c.baselineMaxEntries, 16)
        XCTAssertEqual(c.baselineMaxImages, 1)

        var first = AllowRule()
        first.image = "registry.local/ci/*"
        first.containerName = "build-*"
        first.cgroupPrefix = "/system.slice/gitlab-runner.service"
        first.launchedBy = "gitlab-runner"
        first.destinations = [IPNetwork("10.0.0.0/8")!]
        first.paths = ["/workspace/"]
        first.signals = [.fileOffBaseline, .unexpectedDestination]
        first.source = "boxwatch.yaml:31"
        var second = AllowRule()
        second.launchedBy = "cron"
        second.source = "boxwatch.yaml:38"
        XCTAssertEqual(c.allow, [first, second])

        // Nothing else moved: the same settings by hand equal the parse.
        var expected = ScoringConfig()
        expected.threshold = 75
        expected.windowSeconds = 120.5
        expected.learningSeconds = 0
        expected.learningMinContainers = 3
        expected.learningMode = true
        expected.ephemeralSeconds = 45
        expected.spikeFactor = 2.5
        expected.spikeMinPerSecond = 1000
        expected.spikeWarmupSeconds = 0
        expected.signals[.iocDestination] = SignalSettings(weight: 90)
        expected.signals[.newContainer] = SignalSettings(weight: 10, enabled: false)
        expected.signals[.coverageDegraded] = SignalSettings(weight: 0)
        expected.sensitivePaths = ["/etc/shadow", "/srv/*/secrets/", "/opt/keys/"]
        expected.internalNetworks = [IPNetwork("10.0.0.0/8")!, IPNetwork("fd00::/8")!]
        expected.iocEntries = [IPNetwork("203.0.113.7")!, IPNetwork("198.51.100.0/24")!, IPNetwork("2001:db8::/32")!]
        expected.iocFiles = ["feeds/a.txt", "/etc/boxwatch/b.txt"]
        expected.stateDirectory = "/var/lib/boxwatch"
        expected.baselineMaxEntries = 16
        expected.baselineMaxImages = 1
        expected.allow = [first, second]
        XCTAssertEqual(c, expected)
    }

    func testSmallThings() throws {
        // Extra paths add to the defaults; sections left empty change nothing.
        let c = try parse("sensitive_paths_extra: [/srv/keys/]\nlearning:\nspike: {}\nstate_dir: ~\n")
        XCTAssertEqual(c.sensitivePaths, ScoringConfig.defaultSensitivePaths + ["/srv/keys/"])
        XCTAssertEqual(try parse("window_seconds: .5\nthreshold: +7\n").windowSeconds, 0.5)
        XCTAssertEqual(try parse("internal_networks: []\n").internalNetworks, [])
        // CR LF line ends: positions still count lines.
        XCTAssertThrowsError(try parse("threshold: 60\r\nwindow_seconds: x\r\n")) { e in
            XCTAssertEqual((e as? ConfigError)?.line, 2)
            XCTAssertEqual((e as? ConfigError)?.column, 17)
        }
    }

    func testErrorDescription() {
        XCTAssertThrowsError(try parse("# settings\nthreshold: abc\n")) { e in
            XCTAssertEqual("\(e)", #"boxwatch.yaml:2:12: threshold must be an integer from 1 to 1000, not "abc""#)
        }
    }

    struct Bad {
        var text: [UInt8]
        var line: Int
        var column: Int
        var fragment: String

        init(_ text: String, _ line: Int, _ column: Int, _ fragment: String) {
            self.init(bytes: Array(text.utf8), line, column, fragment)
        }

        init(bytes: [UInt8], _ line: Int, _ column: Int, _ fragment: String) {
            self.text = bytes
            self.line = line
            self.column = column
            self.fragment = fragment
        }
    }

    // Lines and columns below are counted by hand from each input (1-based;
    // columns in characters).
    static let malformed: [Bad] = [
        // YAML syntax: libyaml's words at its problem mark
        Bad("threshold: 60: 70\n", 1, 14, "mapping values are not allowed in this context"),
        Bad("threshold: \"60\n", 2, 1, "found unexpected end of stream"),
        // unknown keys, with and without a suggestion
        Bad("learning:\n  secnds: 5\n", 2, 3, #"unknown key "secnds" in learning (did you mean "seconds"?)"#),
        Bad("threshold: 60\ntreshold: 50\n", 2, 1, #"unknown key "treshold" (did you mean "threshold"?)"#),
        Bad("windowSeconds: 5\n", 1, 1, #"(did you mean "window_seconds"?)"#),
        Bad("colour: red\n", 1, 1, #"unknown key "colour"; expected one of: threshold, "#),
        // wrong types
        Bad("threshold: abc\n", 1, 12, #"threshold must be an integer from 1 to 1000, not "abc""#),
        Bad("threshold: 1.5\n", 1, 12, #"not "1.5""#),
        Bad("threshold: true\n", 1, 12, #"not "true""#),
        Bad("threshold: \"60\"\n", 1, 12, #"not the quoted string "60""#),
        Bad("threshold:\n", 1, 11, "not an empty value"),
        Bad("learning:\n  mode: yes\n", 2, 9, #"learning.mode must be true or false, not "yes""#),
        Bad("window_seconds: 1e11\n", 1, 17, "window_seconds must be a number greater than 0 and at most 10000000, not \"1e11\""),
        Bad("window_seconds: [1]\n", 1, 17, "window_seconds must be a number greater than 0 and at most 10000000, not a list"),
        Bad("window_seconds: .inf\n", 1, 17, "window_seconds must be a number"),
        Bad("ioc_files: feed.txt\n", 1, 12, "ioc_files must be a list"),
        Bad("learning: 5\n", 1, 11, "learning must be a mapping"),
        // out of range
        Bad("spike:\n  factor: 1\n", 2, 11, #"spike.factor must be a number greater than 1 and at most 10000000, not "1""#),
        Bad("signals:\n  sensitive_file: {weight: 101}\n", 2, 28, "signals.sensitive_file.weight must be an integer from 0 to 100"),
        Bad("baseline:\n  max_entries: 15\n", 2, 16, "baseline.max_entries must be an integer of at least 16"),
        Bad("threshold: 99999999999999999999999\n", 1, 12, "threshold must be an integer from 1 to 1000"),
        // addresses
        Bad("internal_networks:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n", 3, 5,
            #"internal_networks: "10.0.0.0/33" is not an IPv4/IPv6 address or CIDR range"#),
        Bad("ioc: [203.0.113.7, \"bad\"]\n", 1, 20, #""bad" is not an IPv4/IPv6 address"#),
        // signals
        Bad("signals:\n  ioc_destnation: {weight: 5}\n", 2, 3, #"unknown signal "ioc_destnation" (did you mean "ioc_destination"?)"#),
        Bad("allow:\n  - image: x\n    signals: [spike]\n", 3, 15, #"allow.signals: unknown signal "spike"; expected one of"#),
        Bad("signals:\n  new_container: {wieght: 5}\n", 2, 19, #"unknown key "wieght" in signals.new_container (did you mean "weight"?)"#),
        // duplicates
        Bad("threshold: 60\nwindow_seconds: 10\nthreshold: 70\n", 3, 1, #"duplicate key "threshold" (first given on line 1)"#),
        Bad("spike: {factor: 2, factor: 3}\n", 1, 20, #"duplicate key "factor""#),
        // allow rules
        Bad("allow:\n  - image: a\n  - signals: [ioc_destination]\n", 3, 5, "an allow rule needs at least one of image, container_name"),
        Bad("allow:\n  - {paths: []}\n", 2, 5, "an allow rule needs at least one of"),
        Bad("allow:\n  - image\n", 2, 5, "each allow rule must be a mapping"),
        Bad("allow:\n  - cgroup_prefix: system.slice/x\n", 2, 20, #"allow.cgroup_prefix: "system.slice/x" must be an absolute path"#),
        Bad("allow:\n  - {image: é, paths: [x]}\n", 2, 24, #"allow.paths: "x" must be an absolute path"#),
        Bad("allow:\n  - image: \"\"\n", 2, 12, "allow.image must not be an empty string"),
        // paths
        Bad("sensitive_paths: [/etc/shadow, etc/passwd]\n", 1, 32, #"sensitive_paths: "etc/passwd" must be an absolute path (start with "/")"#),
        // the document's shape
        Bad("- threshold: 60\n", 1, 1, "the top level must be a mapping of settings"),
        Bad("just text\n", 1, 1, "the top level must be a mapping"),
        Bad("threshold: 60\n---\nthreshold: 70\n", 2, 1, "a second YAML document"),
        Bad("? [a]\n: 1\n", 1, 3, "a key must be a name, not a list"),
        // tabs
        Bad("learning:\n\tseconds: 5\n", 2, 1, "indent with spaces, not tabs"),
        // bytes
        Bad("threshold: 6\u{0}0\n", 1, 13, "NUL byte"),
        Bad(bytes: Array("state_dir: /x\nthreshold: 6".utf8) + [0xFF] + Array("0\n".utf8), 2, 13, "not valid UTF-8 (byte 0xFF)"),
        Bad(bytes: Array("threshold: 6".utf8) + [0xC0, 0x80], 1, 13, "not valid UTF-8 (byte 0xC0)"),
        Bad("threshold: é\u{1}\n", 1, 13, "control characters are not allowed (character U+0001)"),
        Bad("ioc_files: [\"a\\0b\"]\n", 1, 13, "NUL character"),
        // hostile shapes
        Bad(String(repeating: "[", count: 100), 1, 65, "nested deeper than 64 levels"),
        Bad("[" + String(repeating: "1,", count: 100_000) + "]", 1, 200_000, "too many values (more than 100000)"),
        Bad("threshold: &t 60\n", 1, 12, "YAML anchors (&t) are not supported"),
        Bad("threshold: *t\n", 1, 12, "YAML aliases (*t) are not supported"),
        Bad("a: &x [1]\nb: *x\n", 1, 4, "anchors"),
        Bad("threshold: !!int 60\n", 1, 12, "YAML tags are not supported"),
    ]

    func testMalformedInputs() {
        XCTAssertGreaterThanOrEqual(Self.malformed.count, 15)
        for bad in Self.malformed {
            let shown = String(decoding: bad.text.prefix(60), as: UTF8.self).debugDescription
            do {
                let c = try ConfigFile.parse(bytes: bad.text, file: Self.file)
                XCTFail("\(shown) parsed: \(c)")
            } catch {
                XCTAssertEqual(error.file, Self.file, shown)
                XCTAssertEqual(error.line, bad.line, "\(shown): \(error)")
                XCTAssertEqual(error.column, bad.column, "\(shown): \(error)")
                XCTAssertTrue(error.message.contains(bad.fragment), "\(shown): \(error) lacks \(bad.fragment)")
            }
        }
    }

    /// Hostile input: mutations of the example and random bytes must end in
    /// a config or a ConfigError, never a crash or a hang.
    func testMutationsNeverCrash() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        let base = Array(ConfigFile.example.utf8)
        let alphabet = Array("[]{}:,-?*&!|>'\"#%@` \t\n\r0aé\u{0}".utf8) + [0xFF, 0xC3]
        var failures = 0
        for _ in 0..<1500 {
            var b = base
            for _ in 0..<(1 + next() % 4) {
                let at = next() % b.count
                switch next() % 3 {
                case 0: b[at] = alphabet[next() % alphabet.count]
                case 1: b.insert(alphabet[next() % alphabet.count], at: at)
                default: b.remove(at: at)
                }
            }
            if (try? ConfigFile.parse(bytes: b, file: Self.file)) == nil { failures += 1 }
        }
        for _ in 0..<300 {
            let b = (0..<(next() % 200)).map { _ in UInt8(truncatingIfNeeded: next()) }
            _ = try? ConfigFile.parse(bytes: b, file: Self.file)
        }
        XCTAssertGreaterThan(failures, 0)
    }
}
