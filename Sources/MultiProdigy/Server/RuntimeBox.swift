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

    /// What `body` reads from the runtime new requests use, without copying the whole runtime (and
    /// retaining everything it holds) as ``current`` does: for the per-connection and per-request
    /// look-ups of one setting.
    func read<Value>(_ body: (borrowing GatewayRuntime) -> Value) -> Value {
        runtime.withLock { body($0) }
    }

    /// Makes `next` the runtime for new requests.
    func replace(with next: GatewayRuntime) {
        runtime.withLock { $0 = next }
    }
}
