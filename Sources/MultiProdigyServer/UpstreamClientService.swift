import MultiProdigyProviders
import ServiceLifecycle

/// Owns the shared upstream client and closes its idle connections after the server has drained.
///
/// Registered before the HTTP server in the service group, so it is shut down after it.
struct UpstreamClientService: Service, CustomStringConvertible {
    let transport: UpstreamTransport

    func run() async throws {
        try? await gracefulShutdown()
        transport.shutdown()
    }

    /// The type's name: the service lifecycle logs services by their description.
    var description: String { "UpstreamClientService" }
}
