import Foundation
import MultiProdigyConfig

extension ConfigLoader {
    /// Creates a loader that accepts the provider types registered with ``ProviderRegistry``.
    ///
    /// - Parameter environment: Variables for `${VAR}` expansion (default: the process environment).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(environment: environment, providerTypes: ProviderRegistry.catalog)
    }
}
