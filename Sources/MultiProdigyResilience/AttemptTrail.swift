import MultiProdigyCore
import MultiProdigyRouting
import Synchronization

/// The targets one request tried, in order, each with how its attempt ended: the ledger's `path`, the
/// access log's `targets` and the dashboard's failover path.
///
/// A step reads `target:outcome`, with the target's name as the ledger's `model` shows it, where the outcome is `ok`, the ``ProviderError/Kind`` of a failed
/// attempt (`server`, `timeout`, `rate_limited`…), `cut_<kind>` for a stream that failed after it had started
/// to answer, or `diverged` for a continuation whose restarted text did not reproduce what the client had.
/// ``FailoverExecutor`` finds the trail of the request it serves in ``current``; a stream relay that outlives
/// its handler keeps the trail it was made under. At most ``maximumSteps`` are kept.
public final class AttemptTrail: Sendable {
    /// The trail of the request the current task serves, if it keeps one.
    @TaskLocal public static var current: AttemptTrail?

    /// The most steps a trail keeps; later ones are counted, not listed.
    public static let maximumSteps = 32

    /// One attempt: its target and how it ended.
    private struct Step {
        var target: RouteTarget
        var outcome: String
    }

    /// The steps kept, and how many more were not. A struct, not a tuple: a tuple's type metadata is
    /// looked up at run time on every access to the lock (callgrind).
    private struct State {
        var steps: [Step] = []
        var dropped = 0
    }

    private let state = Mutex(State())

    /// Creates an empty trail.
    public init() {}

    /// The steps so far, oldest first; a last `…+N` step says how many more were not kept.
    public var steps: [String] {
        state.withLock { state in
            let steps = state.steps.map { "\($0.target.name):\($0.outcome)" }
            return state.dropped == 0 ? steps : steps + ["…+\(state.dropped)"]
        }
    }

    /// The targets tried, each once, in the order first tried.
    public var targets: [RouteTarget] {
        state.withLock { state in
            var targets: [RouteTarget] = []
            for step in state.steps where !targets.contains(step.target) { targets.append(step.target) }
            return targets
        }
    }

    /// Notes an attempt at `target` that ended with `outcome` (`ok` or a failure kind).
    public func attempted(_ target: RouteTarget, outcome: String) {
        state.withLock { state in
            if state.steps.count < Self.maximumSteps {
                state.steps.append(Step(target: target, outcome: outcome))
            } else {
                state.dropped += 1
            }
        }
    }

    /// Notes that the answer `target` had started to stream failed with `kind`: its `ok` becomes `cut_<kind>`.
    public func cut(_ target: RouteTarget, kind: ProviderError.Kind) {
        amendLast(target, to: "cut_\(kind.rawValue)")
    }

    /// Notes that the continuation on `target` did not reproduce what the client had received.
    public func diverged(_ target: RouteTarget) {
        amendLast(target, to: "diverged")
    }

    /// Notes that `target` refused a continuation's prefill: the 400 it answered (`client`) becomes
    /// `prefill_rejected`, which is not the client's error.
    public func prefillRejected(_ target: RouteTarget) {
        amendLast(target, from: ProviderError.Kind.client.rawValue, to: "prefill_rejected", appendingWhenMissing: false)
    }

    /// Replaces the outcome of the last step of `target` that ended with `previous` (`ok` unless
    /// said); appends a step when there is none, unless told not to (the step it would amend
    /// ended otherwise, or the trail was full).
    private func amendLast(_ target: RouteTarget, from previous: String = "ok", to outcome: String, appendingWhenMissing: Bool = true) {
        let amended = state.withLock { state -> Bool in
            guard let index = state.steps.lastIndex(where: { $0.target == target && $0.outcome == previous }) else { return false }
            state.steps[index].outcome = outcome
            return true
        }
        if !amended, appendingWhenMissing { attempted(target, outcome: outcome) }
    }
}
