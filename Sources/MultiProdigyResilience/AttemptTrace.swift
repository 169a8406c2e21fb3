import MultiProdigyCore
import MultiProdigyRouting
import Tracing

/// The client span of one upstream attempt, a child of the request's span (or of a continuation's):
/// the target and provider, the attempt's number and outcome, why a failed one was retried or left
/// for the next target, and the `traceparent` the upstream call carries.
///
/// The span covers the attempt as the executor sees it: until the answer arrived (or, for a stream,
/// committed at its first content) or the attempt failed. It never holds a prompt or an answer; a
/// failure's text, scrubbed of secrets, is its status message unless the upstream refused the
/// request itself (a 4xx may quote the prompt).
struct AttemptTrace {
    let span: any Span
    /// What the upstream call carries: the span's own `traceparent`.
    let headers: UpstreamTraceHeaders?

    /// Starts the span of attempt number `attempt` at `target`, as a child of `parent`.
    init(
        tracer: any Tracer,
        parent: ServiceContext,
        operation: String,
        target: RouteTarget,
        providerType: String,
        attempt: Int
    ) {
        let span = tracer.startSpan("\(operation) \(target.upstreamModel)", context: parent, ofKind: .client)
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes[TraceAttribute.operationName] = operation
                attributes[TraceAttribute.providerName] = TraceAttribute.providerName(forType: providerType)
                attributes[TraceAttribute.requestModel] = target.upstreamModel
                attributes[TraceAttribute.target] = target.name
                attributes[TraceAttribute.provider] = target.providerName
                attributes[TraceAttribute.attempt] = attempt
            }
        }
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: TraceContextCarrier())
        self.span = span
        self.headers = carrier["traceparent"].map { UpstreamTraceHeaders(traceparent: $0, tracestate: carrier["tracestate"]) }
    }

    /// Ends the span of an attempt that answered.
    func succeeded() {
        span.attributes[TraceAttribute.attemptOutcome] = "success"
        span.end()
    }

    /// Ends the span of an attempt the client's departure (or the request's end) cancelled.
    func cancelled() {
        span.attributes[TraceAttribute.attemptOutcome] = "cancelled"
        span.end()
    }

    /// What the executor does after a failed attempt.
    enum Next {
        /// The same target again, after `delay`.
        case retry(delay: Duration)
        /// The next target.
        case failover
        /// Nothing more: the upstream's answer goes to the client.
        case stop
    }

    /// Ends the span of an attempt that failed with `failure` (already scrubbed of secrets), saying
    /// what the executor did next.
    func failed(_ failure: ProviderError, next: Next) {
        guard span.isRecording else {
            span.end()
            return
        }
        let kind = failure.kind.rawValue
        span.updateAttributes { attributes in
            attributes[TraceAttribute.attemptOutcome] = "failure"
            attributes[TraceAttribute.errorType] = kind
            if let status = failure.upstreamStatus { attributes[TraceAttribute.httpStatus] = status }
            switch next {
            case .retry(let delay):
                attributes[TraceAttribute.attemptNext] = "retry"
                attributes[TraceAttribute.retryReason] = kind
                attributes[TraceAttribute.retryDelay] = Int(delay / .milliseconds(1))
            case .failover:
                attributes[TraceAttribute.attemptNext] = "failover"
                attributes[TraceAttribute.failoverReason] = kind
            case .stop:
                attributes[TraceAttribute.attemptNext] = "stop"
            }
        }
        // An upstream's error text may quote the prompt or part of an answer (a 4xx refusal, a proxy's 500
        // "failed on input: …"): only the kind and the status go on the span.
        let message = failure.upstreamStatus.map { "\(kind) (HTTP \($0))" } ?? kind
        span.setStatus(SpanStatus(code: .error, message: message))
        span.end()
    }
}
