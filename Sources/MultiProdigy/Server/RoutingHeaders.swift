import HTTPTypes

/// The `x-multiprodigy-*` headers that say how a request was routed.
enum RoutingHeaders {
    /// Provider, model and route of the answering (or last tried) target, and the attempt count.
    static func fields(plan: RoutePlan, target: RouteTarget?, attempts: Int) -> HTTPFields {
        var headers = HTTPFields()
        if let target {
            headers[GatewayHeader.provider] = target.providerName
            headers[GatewayHeader.model] = target.name
        }
        headers[GatewayHeader.attempts] = String(attempts)
        if let route = plan.routeName { headers[GatewayHeader.route] = route }
        return headers
    }
}
