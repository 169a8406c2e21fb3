// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "MultiProdigy",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "MultiProdigy", targets: ["MultiProdigy"]),
        .executable(name: "multiprodigy", targets: ["multiprodigy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "MultiProdigy",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Names the Swift runtime's global-executor hook for the executable (see EventLoopGlobalExecutor).
        .target(name: "CConcurrencyHooks"),
        .executableTarget(
            name: "multiprodigy",
            dependencies: [
                "MultiProdigy",
                "CConcurrencyHooks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // A gateway with a custom provider type registered in Swift; see the README.
        .executableTarget(
            name: "custom-provider-example",
            dependencies: [
                "MultiProdigy",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Examples/CustomProvider",
            exclude: ["gateway.yaml"]
        ),
        // Measures routing work per request; `swift run -c release routing-bench` (bench/README.md).
        .executableTarget(
            name: "routing-bench",
            dependencies: [
                "MultiProdigy",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "bench/RoutingBench"
        ),
        // Records usage rows until it is killed; LedgerDurabilityTests sends it SIGKILL (see its main.swift).
        .executableTarget(
            name: "usage-ledger-probe",
            dependencies: [
                "MultiProdigy",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/UsageLedgerProbe"
        ),
        .testTarget(
            name: "MultiProdigyTests",
            dependencies: [
                "MultiProdigy",
                "multiprodigy",
                "custom-provider-example",
                "usage-ledger-probe",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
