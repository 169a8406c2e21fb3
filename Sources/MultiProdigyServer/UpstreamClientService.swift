import AsyncHTTPClient
import MultiProdigyProviders
import ServiceLifecycle

/// Owns the shared upstream clients and shuts them down after the server has drained.
///
/// Registered before the HTTP server in the service group, so it is shut down after it.
struct UpstreamClientService: Service, CustomStringConvertible {
    let client: HTTPClient
    let plainHTTPClient: PlainHTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        plainHTTPClient.shutdown()
        try await client.shutdown()
    }

    /// The type's name: the service lifecycle logs services by their description.
    var description: String { "UpstreamClientService" }
}
