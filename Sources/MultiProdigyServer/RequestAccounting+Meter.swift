import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyRouting

extension RequestAccounting {
    /// The meter of the request `context` belongs to; a virtual key's request is admitted against
    /// its budget and rate limits first, which may take unpriced targets out of `plan`.
    ///
    /// - Throws: ``GatewayError``: the key's refusal (see ``admit(_:plan:now:)``).
    func meter(for context: GatewayRequestContext, plan: inout RoutePlan) async throws(GatewayError) -> RequestMeter {
        var meter = RequestMeter(context)
        if let limits = context.caller.limits { meter.reservation = try await admit(limits, plan: &plan) }
        return meter
    }

    /// Records the finished request `meter` measured (``finish(_:settling:)``, settling its key's
    /// reservation), and its outcome on its span when it is traced.
    ///
    /// - Parameter finishReasons: The answer's choices' `finish_reason`s, for the span.
    func finish(_ outcome: RequestOutcome, of meter: RequestMeter, finishReasons: @autoclosure () -> [String] = []) {
        finish(outcome, settling: meter.reservation)
        meter.trace?.record(outcome, finishReasons: finishReasons())
    }
}
