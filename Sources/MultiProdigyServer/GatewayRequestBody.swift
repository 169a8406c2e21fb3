import HTTPTypes
import Hummingbird
import MultiProdigyCore
import MultiProdigyRouting
import NIOCore

/// A client's request body the gateway plans and serves: a chat completion or an embeddings
/// request.
protocol GatewayRequestBody: Sendable {
    /// The body parsed and validated.
    ///
    /// - Throws: ``GatewayError`` 400 for a body that is not a valid request.
    static func parse(_ body: ByteBuffer) throws(GatewayError) -> Self

    /// The model or route it asks for.
    var model: String { get }

    /// Its plan, from its routing `headers` and its `caller`'s restrictions.
    ///
    /// - Throws: ``GatewayError`` (see ``RequestPlanning``).
    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan
}

extension GatewayRequestBody {
    /// The body of `request`, read up to `limit` bytes, parsed, and allowed to `caller`.
    ///
    /// - Throws: ``GatewayError``: 413 past `limit`, 400 for an invalid body, 403 for a model the
    ///   caller's key may not use.
    static func read(from request: inout Request, caller: RequestCaller, limit: Int) async throws -> Self {
        let body = try await RequestBodyReader.collect(&request, limit: limit)
        let parsed = try parse(body)
        if let refusal = caller.refusal(forModel: parsed.model) { throw refusal }
        return parsed
    }
}

extension ChatCompletionRequest: GatewayRequestBody {
    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan {
        try planning.plan(self, headers: headers, caller: caller)
    }
}

extension EmbeddingsRequest: GatewayRequestBody {
    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan {
        try planning.plan(self, headers: headers, caller: caller)
    }
}
