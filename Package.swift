// swift-tools-version:6.1
import PackageDescription

/// Our own library modules are compiled with cross-module optimisation in release builds: the layers
/// call each other on every request, and without it their generic and small functions are neither
/// specialised nor inlined across module boundaries (bench: about 12 % more CPU per request at
/// concurrency 32). The dependencies keep SwiftPM's default.
let crossModuleOptimization: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

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
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter's packages are not built.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
    ],
    targets: [
        // JSON reading and writing and server-sent events; imports no other layer.
        .target(
            name: "MultiProdigyJSON",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio")
            ],
            swiftSettings: crossModuleOptimization
        ),
        // The OpenAI-shaped wire types, the gateway's error shape, the provider protocol with its calls, results
        // and errors, and small shared helpers (constant-time comparison, durations, the version).
        .target(
            name: "MultiProdigyCore",
            dependencies: [
                "MultiProdigyJSON",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        // Personal data and secret detection, and the scrubber that masks secrets.
        .target(
            name: "MultiProdigyPrivacy",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
            ],
            swiftSettings: crossModuleOptimization
        ),
        // `gateway.yaml` read into validated values; provider types are injected, not looked up.
        .target(
            name: "MultiProdigyConfig",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        // One adapter per provider type, the upstream HTTP clients and the provider registry.
        .target(
            name: "MultiProdigyProviders",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                "MultiProdigyConfig",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        // The front-door APIs other than chat (Anthropic Messages, OpenAI Responses): their requests
        // translated to chat, chat answers and streams rendered in their shapes, their error envelopes.
        .target(
            name: "MultiProdigyFrontDoor",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        // Route planning: the resolver, policies, latency, cost and token estimates, privacy routing.
        .target(
            name: "MultiProdigyRouting",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                "MultiProdigyConfig",
            ],
            swiftSettings: crossModuleOptimization
        ),
        // Retries, circuit breakers, the failover executor, the stream relay and continuation.
        .target(
            name: "MultiProdigyResilience",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                "MultiProdigyConfig",
                "MultiProdigyRouting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        // The usage ledger, virtual keys, budgets and rate limits, their storage engines (SQLite, PostgreSQL), and the Prometheus metrics.
        .target(
            name: "MultiProdigyAccounting",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                "MultiProdigyConfig",
                "MultiProdigyRouting",
                "MultiProdigyResilience",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        // The Hummingbird application: connections, handlers, middleware, the runtime and its services; the only layer that wires the others together.
        .target(
            name: "MultiProdigyServer",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                "MultiProdigyConfig",
                "MultiProdigyProviders",
                "MultiProdigyRouting",
                "MultiProdigyResilience",
                "MultiProdigyAccounting",
                "MultiProdigyFrontDoor",
                "CMemoryTrim",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ],
            // The dashboard's pages, compiled into the binary: /ui needs no files and no network.
            resources: [
                .embedInCode("DashboardAssets/login.html"),
                .embedInCode("DashboardAssets/app.html"),
                .embedInCode("DashboardAssets/app.js"),
                .embedInCode("DashboardAssets/app.css"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        // The public front: re-exports every layer for apps and embedders.
        .target(
            name: "MultiProdigy",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                "MultiProdigyConfig",
                "MultiProdigyProviders",
                "MultiProdigyRouting",
                "MultiProdigyResilience",
                "MultiProdigyAccounting",
                "MultiProdigyFrontDoor",
                "MultiProdigyServer",
            ]
        ),
        // Names the Swift runtime's global-executor hook for the executable (see EventLoopGlobalExecutor).
        .target(name: "CConcurrencyHooks"),
        // glibc's malloc_trim, for giving a burst's freed memory back (MemoryReturnService).
        .target(name: "CMemoryTrim"),
        // The command imports each layer it uses, not the umbrella `MultiProdigy`: through the
        // umbrella's re-exports, SwiftPM's incremental build missed a layer's changed type layout
        // and linked a stale command that crashed at start.
        .executableTarget(
            name: "multiprodigy",
            dependencies: [
                "MultiProdigyAccounting",
                "MultiProdigyConfig",
                "MultiProdigyCore",
                "MultiProdigyJSON",
                "MultiProdigyPrivacy",
                "MultiProdigyRouting",
                "MultiProdigyServer",
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
                "MultiProdigyConfig",
                "MultiProdigyCore",
                "MultiProdigyPrivacy",
                "MultiProdigyProviders",
                "MultiProdigyRouting",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "bench/RoutingBench"
        ),
        // Records usage rows until it is killed; LedgerDurabilityTests sends it SIGKILL (see its main.swift).
        .executableTarget(
            name: "usage-ledger-probe",
            dependencies: [
                "MultiProdigyAccounting",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/UsageLedgerProbe"
        ),
        // Fixtures shared by several test targets.
        .target(
            name: "TestFixtures",
            dependencies: ["MultiProdigyAccounting"],
            path: "Tests/TestFixtures"
        ),
        // Unit tests of MultiProdigyJSON.
        .testTarget(
            name: "MultiProdigyJSONTests",
            dependencies: [
                "MultiProdigyJSON",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Unit tests of MultiProdigyCore.
        .testTarget(
            name: "MultiProdigyCoreTests",
            dependencies: [
                "MultiProdigyJSON",
                "MultiProdigyCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Unit tests of MultiProdigyPrivacy.
        .testTarget(
            name: "MultiProdigyPrivacyTests",
            dependencies: [
                "MultiProdigyPrivacy"
            ]
        ),
        // Unit tests of MultiProdigyConfig (with provider types of their own: no provider module).
        .testTarget(
            name: "MultiProdigyConfigTests",
            dependencies: [
                "MultiProdigyConfig",
                "MultiProdigyPrivacy",
            ]
        ),
        // Unit tests of MultiProdigyFrontDoor.
        .testTarget(
            name: "MultiProdigyFrontDoorTests",
            dependencies: [
                "MultiProdigyFrontDoor",
                "MultiProdigyJSON",
                "MultiProdigyCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Unit tests of MultiProdigyProviders.
        .testTarget(
            name: "MultiProdigyProvidersTests",
            dependencies: [
                "TestFixtures",
                "MultiProdigyConfig",
                "MultiProdigyJSON",
                "MultiProdigyProviders",
                "MultiProdigyCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Unit tests of MultiProdigyRouting.
        .testTarget(
            name: "MultiProdigyRoutingTests",
            dependencies: [
                "MultiProdigyConfig",
                "MultiProdigyJSON",
                "MultiProdigyRouting",
                "MultiProdigyCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Unit tests of MultiProdigyResilience.
        .testTarget(
            name: "MultiProdigyResilienceTests",
            dependencies: [
                "MultiProdigyConfig",
                "MultiProdigyProviders",
                "MultiProdigyResilience",
                "MultiProdigyRouting",
                "MultiProdigyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // Unit tests of MultiProdigyAccounting.
        .testTarget(
            name: "MultiProdigyAccountingTests",
            dependencies: [
                "TestFixtures",
                "MultiProdigyAccounting",
                "MultiProdigyConfig",
                "MultiProdigyJSON",
                "MultiProdigyProviders",
                "MultiProdigyResilience",
                "MultiProdigyRouting",
                "MultiProdigyCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Unit tests of MultiProdigyServer.
        .testTarget(
            name: "MultiProdigyServerTests",
            dependencies: [
                "MultiProdigyRouting",
                "MultiProdigyResilience",
                "MultiProdigyProviders",
                "TestFixtures",
                "MultiProdigyAccounting",
                "MultiProdigyConfig",
                "MultiProdigyJSON",
                "MultiProdigyPrivacy",
                "MultiProdigyServer",
                "MultiProdigyCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The fuzz targets: properties of every parser of untrusted bytes, checked on any input
        // (Fuzz/README.md). libFuzzer runs them through `multiprodigy-fuzz` (scripts/fuzz.sh);
        // FuzzCorpusTests replays their checked-in corpora in every `swift test`.
        .target(
            name: "MultiProdigyFuzzTargets",
            dependencies: [
                "MultiProdigyConfig",
                "MultiProdigyCore",
                "MultiProdigyJSON",
                "MultiProdigyPrivacy",
                "MultiProdigyProviders",
                "MultiProdigyRouting",
                "MultiProdigyServer",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Fuzz/Targets"
        ),
        // Replays every fuzz target's corpus and the inputs of past findings.
        .testTarget(
            name: "FuzzCorpusTests",
            dependencies: ["MultiProdigyFuzzTargets"]
        ),
        // The real server over real sockets against fake upstreams, and the real binary.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TestFixtures",
                "MultiProdigyAccounting",
                "MultiProdigyConfig",
                "MultiProdigyJSON",
                "MultiProdigyPrivacy",
                "MultiProdigyProviders",
                "MultiProdigyResilience",
                "MultiProdigyRouting",
                "MultiProdigyServer",
                "MultiProdigyCore",
                "multiprodigy",
                "custom-provider-example",
                "usage-ledger-probe",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ]
)

// `MULTIPRODIGY_FUZZ=1` (set by scripts/fuzz.sh) builds the libFuzzer driver, with the gateway's own
// modules instrumented for coverage and checked by AddressSanitizer; the dependencies stay as they are.
if Context.environment["MULTIPRODIGY_FUZZ"] == "1" {
    let sanitizers = ["-sanitize=fuzzer,address"]
    for target in package.targets where target.name.hasPrefix("MultiProdigy") && target.type == .regular {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
    }
    package.targets += [
        .target(name: "CLibFuzzer", path: "Fuzz/Driver/CLibFuzzer"),
        .executableTarget(
            name: "multiprodigy-fuzz",
            dependencies: ["CLibFuzzer", "MultiProdigyFuzzTargets"],
            path: "Fuzz/Driver/multiprodigy-fuzz",
            swiftSettings: [.unsafeFlags(sanitizers)],
            // lld: gold fails on the sanitizer runtimes with an internal error.
            linkerSettings: [.unsafeFlags(sanitizers + ["-use-ld=lld"])]
        ),
    ]
    package.products += [.executable(name: "multiprodigy-fuzz", targets: ["multiprodigy-fuzz"])]
}
