import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Synchronization
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyPrivacy
@testable import MultiProdigyProviders
@testable import MultiProdigyResilience
@testable import MultiProdigyRouting
@testable import MultiProdigyServer

/// A request is served by one configuration from authentication to its last byte, whatever
/// reloads happen meanwhile.
@Suite struct RuntimeSnapshotTests {
    /// Two runtimes of one gateway, as a reload makes them: the same shared parts, each with its
    /// own configuration (here, its own master key).
    private static func withRuntimes(
        _ body: (_ first: GatewayRuntime, _ second: GatewayRuntime) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let logger = Logger(label: "test")
        let database = try await GatewayDatabase.open(path: folder.appendingPathComponent("gateway.db").path)
        let transport = UpstreamTransport(group: MultiThreadedEventLoopGroup.singleton, connectTimeout: .seconds(1))
        let shared = GatewayRuntime.Shared(
            transport: transport,
            health: ProviderHealthBoard(),
            tracker: LatencyTracker(),
            metrics: GatewayMetrics(),
            limiter: KeyLimiter(),
            ledger: try UsageLedger(database: database, logger: logger),
            keys: try await KeyAuthenticator(store: KeyStore(database: database)),
            secrets: KnownSecrets(),
            providerMemory: ProviderMemory(),
            logger: logger
        )
        let config = { (key: String) in
            try ConfigLoader(environment: [:]).load(
                yaml: """
                    auth: {master_key: \(key)}
                    providers:
                      a: {type: openai, base_url: "http://127.0.0.1:9/v1", locality: local}
                    models:
                      one: {provider: a}
                    """
            )
        }
        do {
            let first = try GatewayRuntime.make(config: try config("first-master-key"), shared: shared)
            let second = try GatewayRuntime.make(config: try config("second-master-key"), shared: shared, previous: first)
            try await body(first, second)
        } catch {
            transport.shutdown()
            throw error
        }
        transport.shutdown()
    }

    private static func context(runtime: GatewayRuntime? = nil) -> GatewayRequestContext {
        var context = GatewayRequestContext(source: .init(channel: EmbeddedChannel(), logger: Logger(label: "test")))
        context.runtime = runtime
        return context
    }

    private static func request(key: String) -> Request {
        var head = HTTPRequest(method: .get, scheme: nil, authority: "127.0.0.1", path: "/v1/models")
        head.headerFields[.authorization] = "Bearer \(key)"
        return Request(head: head, body: RequestBody(buffer: ByteBuffer()))
    }

    @Test func theMiddlewareTakesTheRuntimeOnceAndTheRouteSeesThatOne() async throws {
        try await Self.withRuntimes { first, second in
            // The current runtime changes after the first read, as a reload would make it.
            let reads = Mutex(0)
            let middleware = GatewayMiddleware(runtime: {
                reads.withLock { count in
                    count += 1
                    return count == 1 ? first : second
                }
            })
            let seen = Mutex<GatewayRuntime?>(nil)
            let response = try await middleware.handle(Self.request(key: "first-master-key"), context: Self.context()) { _, context in
                seen.withLock { $0 = context.runtime }
                return Response(status: .ok)
            }
            #expect(response.status == .ok)
            #expect(reads.withLock { $0 } == 1)
            #expect(seen.withLock { $0 } === first)
        }
    }

    @Test func aRequestThatStartedUnderOneConfigurationIsNotJudgedByTheNext() async throws {
        try await Self.withRuntimes { first, second in
            // The reload to `second` has happened; the request took `first` when it started.
            let middleware = GatewayMiddleware(runtime: { second })
            let seen = Mutex<GatewayRuntime?>(nil)
            let response = try await middleware.handle(
                Self.request(key: "first-master-key"),
                context: Self.context(runtime: first)
            ) { _, context in
                seen.withLock { $0 = context.runtime }
                return Response(status: .ok)
            }
            #expect(response.status == .ok, "authenticated with the key of the configuration it started under")
            #expect(seen.withLock { $0 } === first)

            let refused = try await middleware.handle(Self.request(key: "second-master-key"), context: Self.context(runtime: first)) {
                _,
                _ in Response(status: .ok)
            }
            #expect(refused.status == .unauthorized)
        }
    }

    @Test func aRouteWithoutASnapshotAnswersAnErrorInsteadOfCrashing() async {
        #expect(throws: GatewayError.self) { try Self.context().servingRuntime() }
    }
}
