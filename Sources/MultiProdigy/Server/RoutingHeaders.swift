import HTTPTypes

/// The `x-multiprodigy-*` headers that say how a request was routed.
enum RoutingHeaders {
    /// Provider and model of the answering (or last tried) target, the attempt count, and the
    /// routing decision in one line.
    static func fields(plan: RoutePlan, target: RouteTarget?, attempts: Int) -> HTTPFields {
        var headers = HTTPFields()
        if let target {
            headers[GatewayHeader.provider] = target.providerName
            headers[GatewayHeader.model] = target.name
        }
        headers[GatewayHeader.attempts] = String(attempts)
        headers[GatewayHeader.route] = plan.summary
        return headers
    }
}
