import MultiProdigyRouting
import MultiProdigyCore

/// The result of walking a plan.
public enum ExecutionResult<Value: Sendable>: Sendable {
    /// A target answered.
    case success(Value, target: RouteTarget, attempts: Int)
    /// No target answered; the error says why, naming every target tried.
    case failure(GatewayError, lastTarget: RouteTarget?, attempts: Int)
}
