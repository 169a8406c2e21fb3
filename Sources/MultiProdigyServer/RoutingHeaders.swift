import HTTPTypes
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting

/// The `x-multiprodigy-*` headers that say how a request was routed.
enum RoutingHeaders {
    /// Provider and model of the answering (or last tried) target, the attempt count, and the
    /// routing decision in one line.
    static func fields(plan: RoutePlan, target: RouteTarget?, attempts: Int) -> HTTPFields {
        // Room for these, the content type and length, the accounting and the request id that the
        // caller and the middleware add; appending distinct names skips the look-up a subscript
        // assignment makes.
        var headers = HTTPFields()
        headers.reserveCapacity(9)
        if let target {
            headers.append(HTTPField(name: GatewayHeader.provider, value: target.providerName))
            headers.append(HTTPField(name: GatewayHeader.model, value: target.name))
        }
        headers.append(HTTPField(name: GatewayHeader.attempts, value: String(attempts)))
        headers.append(HTTPField(name: GatewayHeader.route, value: plan.summary))
        return headers
    }
}

extension RoutingHeaders {
    /// Appends `x-multiprodigy-cost-usd` (when the price is known) and `x-multiprodigy-overhead-ms`
    /// to headers that ``fields(plan:target:attempts:)`` made, which have neither.
    static func addAccounting(to headers: inout HTTPFields, costUSD: Double?, overhead: Duration) {
        if let costUSD { headers.append(HTTPField(name: GatewayHeader.costUSD, value: CostFormatting.usd(costUSD))) }
        headers.append(HTTPField(name: GatewayHeader.overheadMilliseconds, value: milliseconds(overhead)))
    }

    /// `duration` in milliseconds with three decimals (`0.184`).
    static func milliseconds(_ duration: Duration) -> String {
        let microseconds = max(0, Int64((duration.seconds * 1_000_000).rounded()))
        let fraction = String(microseconds % 1000)
        return "\(microseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
