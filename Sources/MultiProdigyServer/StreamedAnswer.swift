import Logging
import MultiProdigyCore
import MultiProdigyResilience
import MultiProdigyRouting

/// A streamed answer in progress: what accounting for it needs to know.
struct StreamedAnswer: Sendable {
    /// Who sent the request and when, and what its key reserved.
    let meter: RequestMeter
    /// The route or model the client asked for.
    let route: String
    /// The endpoint's label in the metrics and the usage ledger.
    let endpoint: String
    /// The target whose stream committed first; every chunk names it as `model`.
    let target: RouteTarget
    /// Upstream calls made until the stream committed.
    let attempts: Int
    /// From arrival to the first content chunk.
    let timeToFirstToken: Duration
    /// The gateway's own time until then.
    let overhead: Duration
}
