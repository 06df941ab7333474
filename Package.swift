// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "calzino",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "calzino", targets: ["calzino"]),
        .library(name: "SOCKSCore", targets: ["SOCKSCore"]),
        .library(name: "CalzinoServer", targets: ["CalzinoServer"]),
        .library(name: "CalzinoClient", targets: ["CalzinoClient"]),
        .library(name: "CalzinoConfiguration", targets: ["CalzinoConfiguration"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(name: "CCalzinoShims"),
        .target(
            name: "SOCKSCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "CalzinoPolicy",
            dependencies: ["SOCKSCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "CalzinoServer",
            dependencies: [
                "CCalzinoShims",
                "SOCKSCore",
                "CalzinoPolicy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            // The admin listener (issue 13): metrics, open sessions, health and the status page over HTTP/1.1.
            name: "CalzinoAdmin",
            dependencies: [
                "CalzinoServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            // The configuration model, the YAML file and the flag merge: the only module that imports Yams.
            name: "CalzinoConfiguration",
            dependencies: [
                "SOCKSCore",
                "CalzinoPolicy",
                "CalzinoServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "CalzinoClient",
            dependencies: [
                "SOCKSCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "CalzinoBench",
            dependencies: [
                "SOCKSCore",
                "CalzinoClient",
                "CalzinoServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "calzino",
            dependencies: [
                "CalzinoPolicy",
                "CalzinoServer",
                "CalzinoAdmin",
                "CalzinoConfiguration",
                "CalzinoBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SOCKSCoreTests",
            dependencies: ["SOCKSCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "CalzinoPolicyTests",
            dependencies: ["CalzinoPolicy", "SOCKSCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Helpers every test target shares: in-process servers and targets, raw sockets, the binary as a
        // process, captured logs (package-internal, for the tests only).
        .target(
            name: "CalzinoTestSupport",
            dependencies: [
                "CalzinoServer",
                "CalzinoPolicy",
                "SOCKSCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/CalzinoTestSupport"
        ),
        .testTarget(
            name: "CalzinoServerTests",
            dependencies: [
                "CalzinoServer",
                "CalzinoConfiguration",
                "CalzinoPolicy",
                "CalzinoTestSupport",
                "SOCKSCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CalzinoConfigurationTests",
            dependencies: [
                "CalzinoConfiguration", "CalzinoServer", "CalzinoPolicy", "CalzinoTestSupport", "SOCKSCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CalzinoClientTests",
            dependencies: [
                "CalzinoClient", "CalzinoTestSupport", "SOCKSCore",
                // The server's user store, for the username/password path against a real server.
                "CalzinoServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CalzinoBenchTests",
            dependencies: ["CalzinoBench", "CalzinoTestSupport"]
        ),
        .testTarget(
            name: "CalzinoAdminTests",
            dependencies: [
                "CalzinoAdmin", "CalzinoServer", "CalzinoPolicy", "CalzinoTestSupport", "SOCKSCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The `calzino` binary as an operator runs it (it must be built first: the README's test command does).
        .testTarget(
            name: "CalzinoCommandTests",
            dependencies: [
                "CalzinoServer", "CalzinoTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)

// Fuzzing harnesses (libFuzzer), built only by scripts/fuzz.sh, which sets CALZINO_FUZZ=1 and builds with
// --sanitize=fuzzer --sanitize=address in its own scratch path: without libFuzzer's main they do not link.
if Context.environment["CALZINO_FUZZ"] == "1" {
    // The executable and the tests do not link under libFuzzer (its main would be a second one); the fuzz
    // build is every library plus the harnesses, built in one go.
    package.products.removeAll { $0.name == "calzino" }
    package.targets.removeAll { $0.name == "calzino" || $0.type == .test || $0.name == "CalzinoTestSupport" }
    let harnesses: [(String, [Target.Dependency])] = [
        ("FuzzHandshake", ["SOCKSCore"]),
        ("FuzzMessages", ["SOCKSCore", "CalzinoServer"]),
        ("FuzzConfig", ["CalzinoConfiguration", "CalzinoServer"]),
        ("FuzzRules", ["CalzinoPolicy", "SOCKSCore"]),
        ("FuzzSession", ["CalzinoServer", "SOCKSCore"]),
    ]
    for (name, dependencies) in harnesses {
        package.targets.append(
            .executableTarget(
                name: name,
                dependencies: dependencies + [.product(name: "NIOCore", package: "swift-nio")],
                path: "Fuzz/Sources/\(name)"
            )
        )
    }
}
