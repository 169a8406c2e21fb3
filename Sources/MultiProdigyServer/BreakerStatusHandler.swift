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
            var failures: JSONValue = .null
            var retryIn: JSONValue = .null
            switch entry.state {
            case .closed(let count): failures = .integer(count)
            case .open(_, let until): retryIn = .double(max(0, ((until - now).seconds * 10).rounded() / 10))
            case .halfOpen: break
            }
            return [
                "target": .string(entry.key),
                "state": .string(entry.state.name),
                "gauge": .integer(entry.gauge),
                "consecutive_failures": failures,
                "retry_in_seconds": retryIn,
            ]
        }
        let body: JSONValue = ["breakers": .array(entries)]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body.buffer))
    }
}
