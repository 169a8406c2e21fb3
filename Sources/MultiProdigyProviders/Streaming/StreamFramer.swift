import MultiProdigyCore
import NIOCore

/// Cuts a byte stream into the units an upstream sends: server-sent events, NDJSON lines.
///
/// A framer holds the bytes of the unit it has not finished yet; ``FramedSequence`` feeds it each
/// buffer as it arrives and asks it for the unterminated rest when the bytes end. It bounds what
/// it holds, so an upstream that never ends a unit cannot exhaust memory.
public protocol StreamFramer: Sendable {
    /// What the upstream sends: an ``SSEEvent``, one NDJSON line.
    associatedtype Unit: Sendable

    /// A framer that has seen no bytes.
    init()

    /// Adds `bytes`, appending every unit they complete to `units`.
    ///
    /// - Throws: ``ProviderError`` (`protocol`) when a unit outgrows the framer's bound. The
    ///   sequence delivers what `units` holds before it throws.
    mutating func feed(_ bytes: ByteBuffer, into units: inout [Unit]) throws(ProviderError)

    /// The bytes ended: the unit they left unterminated, if any.
    mutating func finish() -> Unit?
}
