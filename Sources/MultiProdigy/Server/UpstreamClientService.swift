import AsyncHTTPClient
import ServiceLifecycle

/// Owns the shared upstream `HTTPClient` and shuts it down after the server has drained.
///
/// Registered before the HTTP server in the service group, so it is shut down after it.
struct UpstreamClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
