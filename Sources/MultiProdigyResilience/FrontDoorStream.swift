/// A committed stream of a front-door API other than chat: the upstream's own events passed
/// through, or chat chunks from a target that does not speak the API, for the caller to render.
public enum FrontDoorStream: Sendable {
    /// The target speaks the API: its events pass through (never continued elsewhere).
    case native(NativeStreamRelay)
    /// The target was asked through chat: chat chunks, continued on a later target if cut.
    case translated(ContinuingStreamRelay)

    /// Stops reading the upstream.
    public func cancel() {
        switch self {
        case .native(let relay): relay.cancel()
        case .translated(let relay): relay.cancel()
        }
    }
}
