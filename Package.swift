// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "boxwatch",
    products: [
        .executable(name: "boxwatch", targets: ["boxwatch"]),
    ],
    targets: [
        // C modules
        // The wire format, declared once in bpf/include/boxwatch_events.h (types only).
        .systemLibrary(name: "CBoxwatchABI", path: "Sources/CBoxwatchABI"),
        // libyaml (Debian's libyaml-dev), for the rules-and-settings file.
        .systemLibrary(name: "CYAML", path: "Sources/CYAML"),
        // libbpf (Debian's libbpf-dev) plus a few lines of C that libbpf's API needs.
        .target(
            name: "CLibBPF",
            path: "Sources/CLibBPF",
            linkerSettings: [.linkedLibrary("bpf"), .linkedLibrary("elf"), .linkedLibrary("z")]
        ),

        // Pure core: no libbpf, no syscalls, no root (libyaml only parses text).
        .target(name: "BoxwatchCore", dependencies: ["CBoxwatchABI", "CYAML"]),

        // The only code that touches the kernel and the host.
        .target(name: "BoxwatchHost", dependencies: ["BoxwatchCore", "CBoxwatchABI", "CLibBPF"]),

        // Executable
        .executableTarget(name: "boxwatch", dependencies: ["BoxwatchCore", "BoxwatchHost"]),

        // Tests: pure tier runs anywhere; live tier needs root, the kernel and containers.
        .testTarget(name: "BoxwatchCoreTests", dependencies: ["BoxwatchCore", "CBoxwatchABI"]),
        .testTarget(name: "BoxwatchLiveTests", dependencies: ["BoxwatchCore"]),
    ]
)
