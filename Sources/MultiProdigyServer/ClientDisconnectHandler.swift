import MultiProdigyAccounting
import MultiProdigyProviders
import NIOCore
import Synchronization

/// Watches one client connection and interrupts the request being served when the client goes away:
/// when it closes its sending side (Hummingbird allows half-closure, so that is how most clients'
/// close arrives) or the connection closes.
///
/// Requests reach their connection's handler through ``cancellingOnDisconnect(of:_:)``.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any

    private struct State: Sendable {
        var current: RequestCancellation?
        var disconnected = false
    }

    private let state = Mutex(State())

    /// Handlers by channel, so a request can reach the one of its connection.
    private static let registry = Mutex<[ObjectIdentifier: ClientDisconnectHandler]>([:])

    /// Runs `operation`, cancelling it if the client of `channel` goes away meanwhile.
    static func cancellingOnDisconnect<Value>(
        of channel: ObjectIdentifier?,
        _ operation: () async throws -> Value
    ) async rethrows -> Value {
        guard let channel, let handler = registry.withLock({ $0[channel] }) else { return try await operation() }
        let cancellation = RequestCancellation()
        handler.watch(cancellation)
        defer { handler.stopWatching(cancellation) }
        return try await cancellation.run(operation)
    }

    /// Makes `cancellation` fire when the client goes away, until ``stopWatching(_:)``.
    private func watch(_ cancellation: RequestCancellation) {
        let alreadyGone = state.withLock { state in
            state.current = cancellation
            return state.disconnected
        }
        if alreadyGone { cancellation.fire() }
    }

    private func stopWatching(_ cancellation: RequestCancellation) {
        state.withLock { state in
            if state.current === cancellation { state.current = nil }
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        Self.registry.withLock { $0[id] = self }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        Self.registry.withLock { registry in
            if registry[id] === self { registry[id] = nil }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { clientWentAway() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientWentAway()
        let id = ObjectIdentifier(context.channel)
        Self.registry.withLock { registry in
            if registry[id] === self { registry[id] = nil }
        }
        context.fireChannelInactive()
    }

    private func clientWentAway() {
        let current = state.withLock { state -> RequestCancellation? in
            state.disconnected = true
            return state.current
        }
        current?.fire()
    }
}
