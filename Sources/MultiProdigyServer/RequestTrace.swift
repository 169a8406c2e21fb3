import HTTPTypes
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore
import Synchronization
import Tracing
import W3CTraceContext

/// The server span of one traced request to an LLM endpoint, from its head to its last byte.
///
/// ``GatewayMiddleware`` starts it when tracing is on (a client's `traceparent` is its parent) and
/// the handler runs with its context, so the planning span, each attempt's span and each
/// continuation's are its children. It is named `{gen_ai.operation.name} {gen_ai.request.model}`
/// (`chat fast`) once the body is read; the request's accounting records the outcome on it (status,
/// target, provider, tokens, cost, finish reasons). A JSON answer's span ends when the handler
/// returns it; a stream's, when its last event has been written (``endsWithBody()``).
///
/// Only names, counts, statuses and kinds are recorded: never a prompt, an answer or a key.
///
/// - warning: Every path must end the span (an unended span stays in the tracer's table); the
///   deinit ends one that was forgotten.
final class RequestTrace: Sendable {
    private enum Phase {
        case open
        /// The response's body ends the span.
        case endsWithBody
        case ended
    }

    private let span: any Span
    private let tracer: any Tracer
    private let operation: String
    /// Each configured provider's type, by name, for `gen_ai.provider.name`.
    private let providerTypes: [String: String]
    private let phase = Mutex(Phase.open)

    /// Starts the span of `request`, an `operation` (`chat`, `embeddings`), with the client's
    /// `traceparent` and `tracestate`, if any, as its parent.
    init(tracer: any Tracer, request: HTTPRequest, operation: String, providerTypes: [String: String]) {
        var parent = ServiceContext.topLevel
        if let carrier = Self.traceContext(
            traceparent: request.headerFields[Self.traceparent],
            tracestate: request.headerFields[Self.tracestate]
        ) {
            tracer.extract(carrier, into: &parent, using: TraceContextCarrier())
        }
        let span = tracer.startSpan(operation, context: parent, ofKind: .server)
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes[TraceAttribute.operationName] = operation
                attributes["http.request.method"] = request.method.rawValue
                attributes["url.path"] = request.path.map { String($0.prefix { $0 != "?" }) } ?? ""
            }
        }
        self.span = span
        self.tracer = tracer
        self.operation = operation
        self.providerTypes = providerTypes
    }

    /// The client's trace headers to hand the tracer: only these, never the request's
    /// authorization; nil when there is no valid `traceparent` (the request starts a trace of its
    /// own), and without a `tracestate` that is not valid. Checked here so that a client's malformed
    /// header is ignored quietly rather than logged by the tracer on every request.
    static func traceContext(traceparent: String?, tracestate: String?) -> [String: String]? {
        guard let traceparent, (try? TraceContext(traceParentHeaderValue: traceparent)) != nil else { return nil }
        guard let tracestate, (try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate)) != nil else {
            return ["traceparent": traceparent]
        }
        return ["traceparent": traceparent, "tracestate": tracestate]
    }

    private static let traceparent = HTTPField.Name("traceparent")!
    private static let tracestate = HTTPField.Name("tracestate")!

    /// The context whose span is this request's: the parent of its planning, attempts and
    /// continuations.
    var context: ServiceContext { span.context }

    /// Names the span after the model the client asked for: `chat fast` (a name longer than 64
    /// characters is shortened, as in error messages: the client chooses it).
    func requested(model: String) {
        let name = EchoedName.shortened(model)
        span.operationName = "\(operation) \(name)"
        span.attributes[TraceAttribute.requestModel] = name
    }

    /// Plans the request in a child span `plan`, which records the route, the policy and the
    /// targets in order; the request's span learns the route and policy too.
    func planning(_ plan: () throws(GatewayError) -> RoutePlan) throws(GatewayError) -> RoutePlan {
        let child = tracer.startSpan("plan", context: span.context, ofKind: .internal)
        defer { child.end() }
        let made: RoutePlan
        do {
            made = try plan()
        } catch {
            child.setStatus(SpanStatus(code: .error, message: error.code ?? "\(error.status.code)"))
            child.attributes[TraceAttribute.errorType] = error.code ?? "\(error.status.code)"
            throw error
        }
        guard child.isRecording || span.isRecording else { return made }
        child.updateAttributes { attributes in
            attributes[TraceAttribute.route] = made.requestedName
            attributes[TraceAttribute.policy] = made.policy.rawValue
            attributes[TraceAttribute.planTargets] = made.entries.map(\.target.name)
            attributes[TraceAttribute.planExcluded] = made.excluded.count
            attributes[TraceAttribute.isPrivate] = made.isPrivate
        }
        span.updateAttributes { attributes in
            attributes[TraceAttribute.route] = made.requestedName
            attributes[TraceAttribute.policy] = made.policy.rawValue
        }
        return made
    }

    /// Records how the request ended: its status, the target that answered, the tokens, the cost
    /// and, for a chat answer, its choices' `finish_reasons`.
    func record(_ outcome: RequestOutcome, finishReasons: [String] = []) {
        guard span.isRecording else { return }
        span.updateAttributes { attributes in
            attributes[TraceAttribute.httpStatus] = outcome.status
            attributes[TraceAttribute.attempts] = outcome.attempts
            if let route = outcome.route { attributes[TraceAttribute.route] = route }
            if let target = outcome.target {
                attributes[TraceAttribute.responseModel] = target.name
                attributes[TraceAttribute.target] = target.name
                attributes[TraceAttribute.provider] = target.providerName
                if let type = providerTypes[target.providerName] {
                    attributes[TraceAttribute.providerName] = TraceAttribute.providerName(forType: type)
                }
            }
            if let usage = outcome.usage {
                attributes[TraceAttribute.inputTokens] = usage.promptTokens
                attributes[TraceAttribute.outputTokens] = usage.completionTokens
            }
            if let cost = outcome.costUSD { attributes[TraceAttribute.costUSD] = cost }
            if !finishReasons.isEmpty { attributes[TraceAttribute.finishReasons] = finishReasons }
            if outcome.status >= 400 { attributes[TraceAttribute.errorType] = "\(outcome.status)" }
        }
        if outcome.status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }

    /// Leaves the end of the span to the response's body (a stream), which calls ``end()`` after its
    /// last byte.
    func endsWithBody() {
        phase.withLock { if case .open = $0 { $0 = .endsWithBody } }
    }

    /// Ends the span unless the response's body will: called when the handler has returned.
    func endUnlessBodyEnds() {
        let ends = phase.withLock { phase -> Bool in
            guard case .open = phase else { return false }
            phase = .ended
            return true
        }
        if ends { span.end() }
    }

    /// Ends the span, once.
    func end() {
        let ends = phase.withLock { phase -> Bool in
            if case .ended = phase { return false }
            phase = .ended
            return true
        }
        if ends { span.end() }
    }

    deinit {
        end()
    }

    /// The distinct `finish_reason`s of a chat completion's choices, read without building a tree.
    static func finishReasons(in body: ByteBuffer) -> [String] {
        body.withUnsafeReadableBytes { bytes in
            var reasons: [String] = []
            guard let members = try? JSONScanner.topLevelMembers(of: bytes),
                let choices = members.last(where: { $0.key == "choices" }), choices.kind == .array
            else { return reasons }
            for choice in (try? JSONScanner.elements(ofArrayAt: choices.value, in: bytes)) ?? [] where choice.kind == .object {
                let fields = (try? JSONScanner.members(ofObjectAt: choice.range, in: bytes)) ?? []
                guard let reason = fields.last(where: { $0.key == "finish_reason" }), reason.kind == .string else { continue }
                let text = String(JSONScanner.decodeString(at: reason.value, in: bytes).prefix(32))
                if !reasons.contains(text) { reasons.append(text) }
                if reasons.count == 8 { break }
            }
            return reasons
        }
    }
}
