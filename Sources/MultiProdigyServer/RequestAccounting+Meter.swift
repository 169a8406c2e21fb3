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
}
