import MultiProdigyJSON

/// Why a target holds its place in a plan; rendered to a sentence only when someone reads it
/// (`POST /v1/route`, `multiprodigy route`), so planning a real request builds no strings.
public enum PlanReason: Sendable, Equatable {
    /// Not yet ranked.
    case unranked
    /// `ordered`: at this 1-based position in the route's list.
    case listed(position: Int)
    /// `cost`: at this 1-based rank by estimated cost.
    case cost(rank: Int)
    /// `cost`: its price is unknown, so it ranks after priced targets.
    case unknownPrice
    /// `latency` or `privacy`: at this 1-based rank by predicted latency.
    case latency(rank: Int)
    /// `latency` or `privacy`: never measured and no prior, so it is tried early.
    case unmeasured
    /// `balanced`: at this 1-based rank by weighted, normalised cost and latency.
    case balanced(rank: Int, score: Double)
    /// Put first to re-measure a stale estimate; nil seconds when never measured.
    case exploring(lastMeasuredSecondsAgo: Int?)
    /// One of several deployments of one upstream model, ordered by load and weight.
    case deployment(inFlight: Int, weight: Double)
    /// From the route's `fallback` list.
    case fallback

    /// The reason as a short phrase.
    public var description: String {
        switch self {
        case .unranked: "unranked"
        case .listed(let position): position == 1 ? "first listed" : "listed #\(position)"
        case .cost(let rank): rank == 1 ? "cheapest eligible" : "#\(rank) by estimated cost"
        case .unknownPrice: "price unknown: ranked after priced targets"
        case .latency(let rank): rank == 1 ? "fastest predicted" : "#\(rank) by predicted latency"
        case .unmeasured: "latency not measured yet: tried early to measure it"
        case .balanced(let rank, let score):
            rank == 1
                ? "best balanced score \((score * 1000).rounded() / 1000)" : "#\(rank) by balanced score \((score * 1000).rounded() / 1000)"
        case .exploring(let seconds?): "re-measuring latency (last measured \(seconds) s ago)"
        case .exploring(nil): "re-measuring latency (never measured)"
        case .deployment(let inFlight, let weight):
            "one of several deployments of its model: \(inFlight) in flight, weight \(weight.rounded() == weight && weight < 1e9 ? String(Int(weight)) : String(weight))"
        case .fallback: "route fallback"
        }
    }
}
