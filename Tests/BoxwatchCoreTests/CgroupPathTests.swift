import XCTest
@testable import BoxwatchCore

final class CgroupPathTests: XCTestCase {
    static let id = "4f3c2b1a09876543210fedcba98765434f3c2b1a09876543210fedcba9876543"
    static let outer = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    static let podDashes = "0123abcd-4567-89ab-cdef-0123456789ab"
    static let podUnderscores = "0123abcd_4567_89ab_cdef_0123456789ab"

    struct Expect {
        var path: String
        var id: String
        var runtime: ContainerRuntime
        var pod: String? = nil
        var qos: QoSClass? = nil
        var role: ContainerRole = .workload
        var rootless = false
        var parent: String? = nil
    }

    func testLayouts() {
        let id = Self.id, u = Self.podUnderscores, d = Self.podDashes
        let table: [Expect] = [
            // Docker: cgroupfs and systemd drivers
            Expect(path: "/docker/\(id)", id: id, runtime: .docker),
            Expect(path: "/system.slice/docker-\(id).scope", id: id, runtime: .docker),
            // containerd: namespaces, CRI scopes, the colon form without systemd
            Expect(path: "/default/web1", id: "web1", runtime: .containerd),
            Expect(path: "/k8s.io/\(id)", id: id, runtime: .containerd),
            Expect(path: "/system.slice/containerd.service/kubepods-burstable-pod\(u).slice:cri-containerd:\(id)",
                   id: id, runtime: .containerd, pod: d, qos: .burstable),
            // Kubernetes, systemd driver: QoS levels, Guaranteed has none
            Expect(path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(u).slice/cri-containerd-\(id).scope",
                   id: id, runtime: .containerd, pod: d, qos: .besteffort),
            Expect(path: "/kubepods.slice/kubepods-pod\(u).slice/cri-containerd-\(id).scope",
                   id: id, runtime: .containerd, pod: d, qos: .guaranteed),
            // Kubernetes, cgroupfs driver
            Expect(path: "/kubepods/burstable/pod\(d)/\(id)", id: id, runtime: .containerd, pod: d, qos: .burstable),
            Expect(path: "/kubepods/pod\(d)/\(id)", id: id, runtime: .containerd, pod: d, qos: .guaranteed),
            // CRI-O: scope, crun's /container sub-cgroup, conmon as a runtime helper
            Expect(path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(u).slice/crio-\(id).scope",
                   id: id, runtime: .crio, pod: d, qos: .burstable),
            Expect(path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(u).slice/crio-\(id).scope/container",
                   id: id, runtime: .crio, pod: d, qos: .burstable),
            Expect(path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(u).slice/crio-conmon-\(id).scope",
                   id: id, runtime: .crio, pod: d, qos: .burstable, role: .runtimeHelper),
            // Podman: cgroupfs, systemd, rootless
            Expect(path: "/libpod_parent/libpod-\(id)", id: id, runtime: .podman),
            Expect(path: "/machine.slice/libpod-\(id).scope/container", id: id, runtime: .podman),
            Expect(path: "/machine.slice/libpod-conmon-\(id).scope", id: id, runtime: .podman, role: .runtimeHelper),
            Expect(path: "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(id).scope/container",
                   id: id, runtime: .podman, rootless: true),
            // Docker-in-Docker: the inner container, its outer one as parent
            Expect(path: "/docker/\(Self.outer)/docker/\(id)", id: id, runtime: .docker, parent: Self.outer),
            // a sub-cgroup a container made for itself still belongs to it
            Expect(path: "/docker/\(id)/init.scope", id: id, runtime: .docker),
            // Docker --cgroup-parent: the ID is clear, the runtime is not
            Expect(path: "/ci-jobs/\(id)", id: id, runtime: .unknown),
            // a containerd container's own sub-cgroup
            Expect(path: "/default/web1/init.scope", id: "web1", runtime: .containerd),
            // kind (Kubernetes in Docker): the node's kubelet-kubepods slices
            Expect(path: "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod\(u).slice/cri-containerd-\(id).scope",
                   id: id, runtime: .containerd, pod: d, qos: .besteffort),
        ]
        for t in table {
            guard case .container(let c) = CgroupPath.attribute(path: t.path) else {
                XCTFail("\(t.path): not attributed to a container: \(CgroupPath.attribute(path: t.path))")
                continue
            }
            XCTAssertEqual(c.id.rawValue, t.id, t.path)
            XCTAssertEqual(c.runtime, t.runtime, t.path)
            XCTAssertEqual(c.podUID, t.pod, t.path)
            XCTAssertEqual(c.qos, t.qos, t.path)
            XCTAssertEqual(c.role, t.role, t.path)
            XCTAssertEqual(c.rootless, t.rootless, t.path)
            XCTAssertEqual(c.parent?.rawValue, t.parent, t.path)
            XCTAssertEqual(c.cgroupPath, t.path)
        }
    }

    func testHostPaths() {
        for p in ["/", "", "/init.scope", "/system.slice/ssh.service", "/user.slice/user-0.slice/session-3.scope",
                  "/process_api/abc123", "/system.slice/docker.service", "/system.slice/containerd.service",
                  "/system.slice/run-r0123456789abcdef0123456789abcdef.scope"] {
            XCTAssertEqual(CgroupPath.attribute(path: p), .host, p)
        }
    }

    /// A path that looks like a container's but matches no rule is shown raw, never as host.
    func testContainerLookingPathsAreUnknownNotHost() {
        for p in ["/docker", "/kubepods/burstable/pod\(Self.podDashes)", "/docker/not-an-id",
                  "/kubepods.slice/kubepods-burstable.slice", "/weird/crio-123",
                  "/x/" + String(repeating: "f", count: 40)] {
            XCTAssertEqual(CgroupPath.attribute(path: p), .unknown(path: p), p)
        }
    }

    func testLeafOnly() {
        XCTAssertEqual(CgroupPath.attribute(leaf: ""), .host)
        XCTAssertEqual(CgroupPath.attribute(leaf: "docker-\(Self.id).scope").container?.runtime, .docker)
        XCTAssertEqual(CgroupPath.attribute(leaf: Self.id).container?.id.rawValue, Self.id)
        XCTAssertEqual(CgroupPath.attribute(leaf: "container"), .unknown(path: "?/container"))
        XCTAssertEqual(CgroupPath.attribute(leaf: "ssh.service"), .unknown(path: "?/ssh.service"))
    }

    func testUppercaseOrShortHexIsNotAnID() {
        XCTAssertNil(CgroupPath.attribute(path: "/docker/" + Self.id.uppercased()).container)
        XCTAssertNil(CgroupPath.attribute(path: "/docker/" + Self.id.dropLast()).container)
    }
}

final class ContainerTableTests: XCTestCase {
    func header(cgroup: UInt64, leaf: String) -> RecordHeader {
        var h = try! RecordDecoder.decode(RecordBuilder.open(path: "/x", ret: 3)).header
        h.cgroup = CgroupID(cgroup)
        h.cgroupName = WireText(leaf)
        return h
    }

    func testPathFromMkdirBeatsLeaf() throws {
        let t = ContainerTable()
        let id = CgroupPathTests.id
        let mk = try RecordDecoder.decode(RecordBuilder.cgroup(created: true, id: 77, path: "/kubepods/besteffort/pod\(CgroupPathTests.podDashes)/\(id)", level: 4))
        t.apply(mk)
        let a = t.attribution(for: header(cgroup: 77, leaf: id))
        XCTAssertEqual(a.container?.runtime, .containerd)
        XCTAssertEqual(a.container?.qos, .besteffort)
        XCTAssertEqual(a.container?.podUID, CgroupPathTests.podDashes)
    }

    func testRemovedCgroupStillResolvesUntilPushedOut() throws {
        let t = ContainerTable(tombstoneLimit: 2)
        let id = CgroupPathTests.id
        t.learn(CgroupID(10), path: "/docker/\(id)")
        t.removed(CgroupID(10))
        XCTAssertEqual(t.attribution(for: header(cgroup: 10, leaf: "")).container?.runtime, .docker)
        for i in 11...15 { t.learn(CgroupID(UInt64(i)), path: "/x\(i)"); t.removed(CgroupID(UInt64(i))) }
        XCTAssertNil(t.path(of: CgroupID(10)))
        // forgotten: falls back to the kernel's leaf name, still not "host"
        XCTAssertEqual(t.attribution(for: header(cgroup: 10, leaf: id)).container?.id.rawValue, id)
    }

    func testRootCgroupIsHost() {
        XCTAssertEqual(ContainerTable().attribution(for: header(cgroup: 1, leaf: "")), .host)
    }

    func testUnknownCgroupWithoutPathIsNeverHost() {
        XCTAssertEqual(ContainerTable().attribution(for: header(cgroup: 999, leaf: "mystery")), .unknown(path: "?/mystery"))
    }
}

/// Which cgroups the kernel is told to leave out.
final class CgroupIgnoreRuleTests: XCTestCase {
    func testSubtreesAndScopes() {
        let docker = "/docker/" + String(repeating: "ab", count: 32)
        func attribution(_ p: String) -> Attribution { CgroupPath.attribute(path: p) }
        var rule = CgroupIgnoreRule()
        XCTAssertFalse(rule.active)
        rule.prefixes = ["/ci"]
        XCTAssertTrue(rule.ignores(path: "/ci", attribution: attribution("/ci")))
        XCTAssertTrue(rule.ignores(path: "/ci/job-1", attribution: attribution("/ci/job-1")))
        XCTAssertFalse(rule.ignores(path: "/cix", attribution: attribution("/cix")), "whole components only")
        rule.prefixes = []
        rule.scope = .containers
        XCTAssertTrue(rule.ignores(path: "/system.slice/cron.service", attribution: attribution("/system.slice/cron.service")))
        XCTAssertFalse(rule.ignores(path: docker, attribution: attribution(docker)))
        XCTAssertFalse(rule.ignores(path: "/kubepods/burstable/podx/zz", attribution: attribution("/kubepods/burstable/podx/zz")),
                       "a path that looks like a container's but is not understood is let in")
        XCTAssertTrue(rule.ignores(path: "/", attribution: .host))
        rule.v1Fallback = true
        XCTAssertFalse(rule.ignores(path: "/", attribution: .host), "the cgroup2 root holds v1-only containers on hybrid hosts")
        rule.scope = .host
        XCTAssertTrue(rule.ignores(path: docker, attribution: attribution(docker)))
        let rootless = "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + String(repeating: "cd", count: 32) + ".scope"
        XCTAssertFalse(rule.ignores(path: rootless, attribution: attribution(rootless)),
                       "a user can make a rootless container's cgroup: --host-only must not hide it")
        XCTAssertFalse(rule.ignores(path: "/user.slice", attribution: attribution("/user.slice")))
    }
}
