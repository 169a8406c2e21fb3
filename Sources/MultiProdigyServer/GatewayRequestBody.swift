import HTTPTypes
import Hummingbird
import MultiProdigyCore
import MultiProdigyRouting
import NIOCore

/// A request the gateway plans and serves: what it asks for, and how to plan it.
protocol PlannableRequest: Sendable {
    /// The model or route it asks for.
    var model: String { get }

    /// Its plan, from its routing `headers` and its `caller`'s restrictions.
    ///
    /// - Throws: ``GatewayError`` (see ``RequestPlanning``).
    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan
}

/// A client's request body that is parsed on its own: a chat completion, an embeddings or a
/// Messages request (a Responses request may need the stored conversation first).
protocol GatewayRequestBody: PlannableRequest {
    /// The body parsed and validated.
    ///
    /// - Throws: ``GatewayError`` 400 for a body that is not a valid request.
    static func parse(_ body: ByteBuffer) throws(GatewayError) -> Self
}

extension GatewayRequestBody {
    /// The body of `request`, read up to `limit` bytes and parsed.
    ///
    /// - Throws: ``GatewayError``: 413 past `limit`, 400 for an invalid body.
    static func read(from request: inout Request, limit: Int) async throws -> Self {
        let body = try await RequestBodyReader.collect(&request, limit: limit)
        return try parse(body)
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
