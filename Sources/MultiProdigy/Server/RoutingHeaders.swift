import HTTPTypes

/// The `x-multiprodigy-*` headers that say how a request was routed.
enum RoutingHeaders {
    /// Provider and model of the answering (or last tried) target, the attempt count, and the
    /// routing decision in one line.
    static func fields(plan: RoutePlan, target: RouteTarget?, attempts: Int) -> HTTPFields {
        // Room for these, the content type and the request id the caller and the middleware add;
        // appending distinct names skips the look-up a subscript assignment makes.
        var headers = HTTPFields()
        headers.reserveCapacity(6)
        if let target {
            headers.append(HTTPField(name: GatewayHeader.provider, value: target.providerName))
            headers.append(HTTPField(name: GatewayHeader.model, value: target.name))
        }
        headers.append(HTTPField(name: GatewayHeader.attempts, value: String(attempts)))
        headers.append(HTTPField(name: GatewayHeader.route, value: plan.summary))
        return headers
    }
}
