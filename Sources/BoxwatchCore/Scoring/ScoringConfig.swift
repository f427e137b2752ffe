/// The scoring engine's settings: what `boxwatch.yaml` holds (see
/// docs/config.md), with defaults that work with no file at all.

/// The detection strategy's signals, each a named, weighted reason.
public enum Signal: String, Sendable, CaseIterable, Comparable {
    case newContainer = "new_container"
    case ephemeralContainer = "ephemeral_container"
    case iocDestination = "ioc_destination"
    case unexpectedDestination = "unexpected_destination"
    case fileOffBaseline = "file_off_baseline"
    case sensitiveFile = "sensitive_file"
    case activitySpike = "activity_spike"
    case coverageDegraded = "coverage_degraded"

    public static func < (a: Signal, b: Signal) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public struct SignalSettings: Sendable, Equatable {
    public var enabled = true
    /// Points this reason adds to an event's score and its container's risk.
    public var weight: Int

    public init(weight: Int, enabled: Bool = true) {
        self.weight = weight
        self.enabled = enabled
    }
}

/// One allowlist entry: every field given must match (globs with `*`).
/// `signals` empty means all signals.
public struct AllowRule: Sendable, Equatable {
    public var image: String?
    public var containerName: String?
    /// cgroup2 path prefix, whole components ("/system.slice/gitlab-runner.service").
    public var cgroupPrefix: String?
    /// A process name anywhere in the chain that launched the container ("gitlab-runner").
    public var launchedBy: String?
    /// Destinations that are never suspicious or unexpected for the match.
    public var destinations: [IPNetwork] = []
    /// Paths (globs; a trailing "/" means the whole tree) never off baseline or sensitive.
    public var paths: [String] = []
    public var signals: Set<Signal> = []
    /// Where the rule was written ("boxwatch.yaml:41"), for alerts and errors.
    public var source: String = "built-in"

    public init() {}
}

public struct ScoringConfig: Sendable, Equatable {
    /// Container risk (sum of its recent signals' weights) at which alerts are raised.
    public var threshold = 60
    /// One alert per container and signal within this window; signals older
    /// than it no longer add to the container's risk.
    public var windowSeconds = 300.0
    /// How long an image's baseline learns (from its first event) before deviations score.
    public var learningSeconds = 600.0
    /// ...and at least this many containers of the image must have run.
    public var learningMinContainers = 1
    /// Ephemeral: a container that lived less than this (or was launched detached with auto-remove).
    public var ephemeralSeconds = 120.0
    /// Spike: a one-second count above `spikeFactor` x the container's moving
    /// average and above `spikeMinPerSecond`, after `spikeWarmupSeconds` of history.
    public var spikeFactor = 10.0
    public var spikeMinPerSecond = 200.0
    public var spikeWarmupSeconds = 30.0
    public var signals: [Signal: SignalSettings] = ScoringConfig.defaultWeights
    /// Opens of these paths, and connects to these sockets, are sensitive (globs; `*` within one
    /// component; a trailing "/" covers the tree).
    public var sensitivePaths: [String] = ScoringConfig.defaultSensitivePaths
    /// Addresses that are not "external": loopback, link-local and these.
    public var internalNetworks: [IPNetwork] = ScoringConfig.defaultInternalNetworks
    /// IOC entries written in the config itself.
    public var iocEntries: [IPNetwork] = []
    /// IOC list files named in the config (relative to the config's directory).
    public var iocFiles: [String] = []
    public var allow: [AllowRule] = []
    /// Learning mode: baselines learn, nothing alerts.
    public var learningMode = false
    /// Where baselines persist (nil: in memory only).
    public var stateDirectory: String?
    /// Baseline bounds: entries per image, images kept.
    public var baselineMaxEntries = 4096
    public var baselineMaxImages = 256

    public init() {}

    public static let defaultWeights: [Signal: SignalSettings] = [
        .newContainer: SignalSettings(weight: 10),
        .ephemeralContainer: SignalSettings(weight: 20),
        .iocDestination: SignalSettings(weight: 70),
        .unexpectedDestination: SignalSettings(weight: 30),
        .fileOffBaseline: SignalSettings(weight: 30),
        .sensitiveFile: SignalSettings(weight: 60),
        .activitySpike: SignalSettings(weight: 30),
        .coverageDegraded: SignalSettings(weight: 60),
    ]

    public static let defaultSensitivePaths = [
        "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d/",
        "/root/.ssh/", "/home/*/.ssh/", "/root/.aws/", "/home/*/.aws/", "/root/.kube/", "/home/*/.kube/",
        "/root/.docker/config.json", "/home/*/.docker/config.json",
        "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
        "/run/crio/crio.sock", "/run/podman/podman.sock", "/var/run/secrets/kubernetes.io/",
        "/proc/*/environ", "/proc/*/mem", "/proc/kcore", "/host/", "/hostfs/", "/rootfs/",
    ]

    public static let defaultInternalNetworks: [IPNetwork] = [
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
    ].compactMap { IPNetwork($0) }

    public func weight(_ s: Signal) -> Int {
        guard let w = signals[s], w.enabled else { return 0 }
        return w.weight
    }
}

/// A file's name and its text, as read when the run started or reloaded.
public struct NamedText: Sendable, Equatable {
    public var name: String
    public var text: String
    public init(name: String, text: String) { self.name = name; self.text = text }
}

/// What a run's scoring was built from: the config and IOC files' texts
/// (nil config: the built-in default) and the baselines it started with.
/// Dumps carry it, so replay scores exactly as the run did.
public struct ScoringSources: Sendable, Equatable {
    public var config: NamedText?
    public var iocs: [NamedText] = []
    /// The baselines file's text at the start (nil after a reload, or none).
    public var baselines: String?
    /// The baselines were too large for the dump.
    public var baselinesOmitted = false
    public var learningMode = false
    /// The run's start (a new scorer) rather than a reload (same baselines).
    public var atStart = true

    public init(config: NamedText? = nil, iocs: [NamedText] = [], baselines: String? = nil, learningMode: Bool = false) {
        self.config = config
        self.iocs = iocs
        self.baselines = baselines
        self.learningMode = learningMode
    }

    /// Parses everything again (errors name the original file and line).
    public func build() throws(ConfigError) -> (ScoringConfig, NetworkSet, BaselineStore?) {
        var config = ScoringConfig()
        if let c = self.config { config = try ConfigFile.parse(c.text, file: c.name) }
        if learningMode { config.learningMode = true }
        var iocs = NetworkSet()
        for n in config.iocEntries { iocs.insert(n, label: (self.config?.name ?? "config") + " ioc") }
        for f in self.iocs { try IOCList.parse(f.text, file: f.name, into: &iocs) }
        let store = try baselines.map { text throws(ConfigError) in
            try BaselineStore.parse(text, file: "baselines (from the dump)", maxEntries: config.baselineMaxEntries,
                                    maxImages: config.baselineMaxImages)
        }
        return (config, iocs, store)
    }
}
