/// Cgroup path grammar: which container, if any, a cgroup belongs to.
///
/// Runtimes name the container in one path component (the deepest match
/// wins, so sub-cgroups such as crun's `/container` and nested containers
/// resolve to the innermost container); ancestors add context (Kubernetes QoS
/// and pod UID, rootless Podman, the outer container of a nested one).

public enum QoSClass: String, Sendable {
    case guaranteed, burstable, besteffort
}

public enum ContainerRole: String, Sendable {
    case workload
    /// conmon and friends: the runtime's monitor, not the container's code.
    case runtimeHelper = "runtime-helper"
}

public struct ContainerInfo: Sendable, Equatable {
    public var id: ContainerID
    public var runtime: ContainerRuntime
    public var role: ContainerRole = .workload
    /// Kubernetes pod UID, with dashes.
    public var podUID: String? = nil
    public var qos: QoSClass? = nil
    /// Podman running as a user (under `user@<uid>.service`).
    public var rootless: Bool = false
    /// The outer container of a nested one (Docker-in-Docker).
    public var parent: ContainerID? = nil
    /// The cgroup path the attribution came from; "?/<leaf>" when only the
    /// leaf name was known.
    public var cgroupPath: String
    /// What the runtime says of it (image, name, labels), once looked up.
    public var metadata: ContainerMetadata? = nil
}

/// A runtime's own description of a container, looked up off the event path.
public struct ContainerMetadata: Sendable, Equatable {
    public var name: String
    public var image: String
    public var labels: [String: String]
    /// Launched to be removed when it exits (`docker run --rm`).
    public var autoRemove: Bool
    /// Launched with no terminal or stream attached (`docker run -d`).
    public var detached: Bool

    public init(name: String, image: String, labels: [String: String] = [:], autoRemove: Bool = false, detached: Bool = false) {
        self.name = name
        self.image = image
        self.labels = labels
        self.autoRemove = autoRemove
        self.detached = detached
    }
}

public enum Attribution: Sendable, Equatable {
    case host
    case container(ContainerInfo)
    /// A path that looks like a container's (or could not be resolved) but
    /// matches no rule: shown raw, never as host.
    case unknown(path: String)

    public var container: ContainerInfo? {
        if case .container(let c) = self { return c }
        return nil
    }
}

public enum CgroupPath {
    /// Containerd namespaces whose `/<namespace>/<id>` paths are containers.
    public static let containerdNamespaces: Set<Substring> = ["default", "k8s.io", "moby", "buildkit"]

    /// Attributes a full cgroup2 path such as "/docker/<64 hex>".
    public static func attribute(path: String) -> Attribution {
        let parts = path.split(separator: "/")
        if parts.isEmpty { return .host }
        var matches: [(index: Int, match: ComponentMatch)] = []
        for (i, part) in parts.enumerated() {
            if let m = match(component: part, parent: i > 0 ? parts[i - 1] : nil, depth: parts.count, index: i,
                             underKubepods: parts[..<i].contains(where: isKubepods)) {
                matches.append((i, m))
            }
        }
        guard let inner = matches.last else {
            return looksLikeContainer(parts) ? .unknown(path: path) : .host
        }
        var info = ContainerInfo(id: inner.match.id, runtime: inner.match.runtime, role: inner.match.role,
                                 cgroupPath: path)
        info.parent = matches.dropLast().last(where: { $0.match.role == .workload })?.match.id
        // ancestors, plus the slice named inside a `slice:prefix:id` component
        let context = Array(parts[..<inner.index]) + (inner.match.slice.map { [$0] } ?? [])
        info.rootless = context.contains { $0.hasPrefix("user@") && $0.hasSuffix(".service") }
        if context.contains(where: isKubepods) {
            info.podUID = context.lazy.compactMap(podUID).first
            info.qos = context.lazy.compactMap(qosClass).first ?? (info.podUID != nil ? .guaranteed : nil)
        }
        return .container(info)
    }

    /// Attributes from the leaf name alone, when the full path is not known
    /// (the kernel reads the leaf at every event). Never answers `.host`
    /// unless the leaf is the root's (empty) name.
    public static func attribute(leaf: String) -> Attribution {
        if leaf.isEmpty { return .host }
        let part = Substring(leaf)
        if let m = match(component: part, parent: nil, depth: 1, index: 0, underKubepods: false) {
            return .container(ContainerInfo(id: m.id, runtime: m.runtime, role: m.role, cgroupPath: "?/" + leaf))
        }
        return .unknown(path: "?/" + leaf)
    }

    struct ComponentMatch {
        var id: ContainerID
        var runtime: ContainerRuntime
        var role: ContainerRole = .workload
        /// The slice of a `slice:prefix:id` component.
        var slice: Substring? = nil
    }

    /// Prefixes of `<prefix>-<64 hex>[.scope]` components.
    static let scopePrefixes: [(prefix: String, runtime: ContainerRuntime, role: ContainerRole)] = [
        ("docker-", .docker, .workload),
        ("cri-containerd-", .containerd, .workload),
        ("crio-conmon-", .crio, .runtimeHelper),
        ("crio-", .crio, .workload),
        ("libpod-conmon-", .podman, .runtimeHelper),
        ("libpod-", .podman, .workload),
    ]

    /// The middle word of runc's `slice:prefix:name` form, kept literally as
    /// a directory name when systemd does not manage the cgroups.
    static let colonPrefixes: [String: ContainerRuntime] = [
        "cri-containerd": .containerd, "crio": .crio, "docker": .docker, "libpod": .podman,
    ]

    static func match(component c: Substring, parent: Substring?, depth: Int, index: Int,
                      underKubepods: Bool) -> ComponentMatch? {
        // slice:prefix:id
        let colon = c.split(separator: ":", omittingEmptySubsequences: false)
        if colon.count == 3, let runtime = colonPrefixes[String(colon[1])], !colon[2].isEmpty {
            return ComponentMatch(id: ContainerID(String(colon[2])), runtime: runtime, slice: colon[0])
        }
        // prefix-<64hex>[.scope]
        let name = c.hasSuffix(".scope") ? c.dropLast(6) : c
        for p in scopePrefixes where name.hasPrefix(p.prefix) {
            let id = name.dropFirst(p.prefix.count)
            if isContainerHex(id) { return ComponentMatch(id: ContainerID(String(id)), runtime: p.runtime, role: p.role) }
        }
        // bare <64hex>: the parent or the Kubernetes context names the runtime
        if isContainerHex(c) {
            let runtime: ContainerRuntime
            if parent == "docker" { runtime = .docker }
            else if underKubepods { runtime = .containerd }
            else if let parent, containerdNamespaces.contains(parent), index == 1 { runtime = .containerd }
            else { runtime = .unknown }
            return ComponentMatch(id: ContainerID(String(c)), runtime: runtime)
        }
        // containerd without Kubernetes: /<namespace>/<any id>[/sub-cgroups]
        if index == 1, let parent, containerdNamespaces.contains(parent) {
            return ComponentMatch(id: ContainerID(String(c)), runtime: .containerd)
        }
        return nil
    }

    public static func isContainerHex(_ s: Substring) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// "kubepods", "kubepods.slice", a systemd slice below it
    /// ("kubepods-burstable.slice"), or kind's nested "kubelet-kubepods…".
    static func isKubepods(_ c: Substring) -> Bool {
        let c = c.hasPrefix("kubelet-") ? c.dropFirst(8) : c
        return c == "kubepods" || c.hasPrefix("kubepods.") || c.hasPrefix("kubepods-")
    }

    /// "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid_with_underscores>.slice" (systemd).
    static func podUID(_ c: Substring) -> String? {
        var s = c
        if s.hasSuffix(".slice") { s = s.dropLast(6) }
        guard s.utf8.count >= 39 else { return nil }
        let uidPart = s.suffix(36), head = s.dropLast(36)
        guard head.hasSuffix("pod") else { return nil }
        let before = head.dropLast(3)
        guard before.isEmpty || before.hasSuffix("-") else { return nil }
        let uid = String(uidPart.map { $0 == "_" ? "-" : $0 })
        let groups = uid.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12],
              uid.utf8.allSatisfy({ $0 == 45 || (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        return uid
    }

    static func qosClass(_ c: Substring) -> QoSClass? {
        let c = c.hasPrefix("kubelet-") ? c.dropFirst(8) : c
        if c == "burstable" || c.hasPrefix("kubepods-burstable") { return .burstable }
        if c == "besteffort" || c.hasPrefix("kubepods-besteffort") { return .besteffort }
        return nil
    }

    /// Whether an unmatched path still looks like a container runtime's, so it
    /// must be shown raw rather than as the host.
    /// Host units are not: the runtimes' own daemons (`docker.service`,
    /// `containerd.service`) and systemd's transient `run-r<hex>.scope`.
    static func looksLikeContainer(_ parts: [Substring]) -> Bool {
        let words = ["docker", "containerd", "kubepods", "libpod", "crio", "podman", "machine.slice", "lxc"]
        return parts.contains { part in
            if part.hasSuffix(".service") || (part.hasPrefix("run-") && part.hasSuffix(".scope")) { return false }
            return words.contains { part.contains($0) } || hasHexRun(part, atLeast: 32)
        }
    }

    static func hasHexRun(_ s: Substring, atLeast n: Int) -> Bool {
        var run = 0
        for b in s.utf8 {
            run = (48...57).contains(b) || (97...102).contains(b) ? run + 1 : 0
            if run >= n { return true }
        }
        return false
    }
}
