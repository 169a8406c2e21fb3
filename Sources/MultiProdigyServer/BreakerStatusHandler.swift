import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// `GET /admin/breakers` (master key): every target's circuit breaker.
///
/// ```json
/// {"breakers":[{"target":"openai/gpt-4o-mini","state":"open","gauge":2,"consecutive_failures":null,"retry_in_seconds":7.5}]}
/// ```
struct BreakerStatusHandler: Sendable {
    let board: CircuitBreakerBoard

    func list() -> Response {
        let now = ContinuousClock.now
        let entries: [JSONValue] = board.snapshot().map { entry in
            let details = Self.details(of: entry.state, now: now)
            return [
                "target": .string(entry.key),
                "state": .string(entry.state.name),
                "gauge": .integer(entry.gauge),
                "consecutive_failures": details.consecutiveFailures.map { .integer($0) } ?? .null,
                "retry_in_seconds": details.retryInSeconds.map { .double($0) } ?? .null,
            ]
        }
        let body: JSONValue = ["breakers": .array(entries)]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body.buffer))
    }

    /// What a breaker's `state` says at `now`: its consecutive failures while closed, and while open the
    /// seconds (to a tenth) until it lets a probe through. The admin list and the dashboard both show these.
    static func details(
        of state: CircuitBreakerStateMachine.State,
        now: ContinuousClock.Instant
    ) -> (consecutiveFailures: Int?, retryInSeconds: Double?) {
        switch state {
        case .closed(let count): (count, nil)
        case .open(_, let until): (nil, max(0, ((until - now).seconds * 10).rounded() / 10))
        case .halfOpen: (nil, nil)
        }
    }
}
