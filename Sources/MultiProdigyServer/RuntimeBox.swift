import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import Synchronization

/// Holds the current ``GatewayRuntime``; a reload swaps it atomically.
///
/// Each request reads the runtime once, when it starts, and keeps it to the end, so a reload never
/// changes the rules under a running request and never drops one.
final class RuntimeBox: Sendable {
    private let runtime: Mutex<GatewayRuntime>

    init(_ runtime: GatewayRuntime) {
        self.runtime = Mutex(runtime)
    }

    /// The runtime new requests use.
    var current: GatewayRuntime { runtime.withLock { $0 } }

    /// Makes `next` the runtime for new requests.
    func replace(with next: GatewayRuntime) {
        runtime.withLock { $0 = next }
    }
}
