import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyJSON
import NIOCore

/// OpenAI's Responses API: `POST /v1/responses` served through the chat path (planning, failover,
/// continuation, accounting) and answered as a `response` object or the Responses stream events;
/// `GET` and `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items` over the
/// responses stored in the gateway's database, each visible only to the key that created it.
struct ResponsesHandler: Sendable {
    /// The chat path.
    let chat: ChatCompletionsHandler
    /// Where responses are kept (`store: true`, the default), shared by replicas on PostgreSQL.
    let store: ResponseStore

    /// The endpoint's label in the metrics and the usage ledger.
    static let endpoint = "responses"

    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: chat.maxRequestBytes)
        let responses = try ResponsesRequest.parse(body)
        // A model the key may not use is refused before the store is asked for anything.
        if let refusal = context.caller.refusal(forModel: responses.model) { throw refusal }
        let owner = context.caller.owner
        let history = try await history(continuing: responses.previousResponseID, owner: owner, logger: context.logger)
        let chatBody = responses.chatBody(history: history)
        let native = try NativeRequest(api: .responses, body: Self.nativeBody(body, continuing: history, request: responses))
        // A conversation grows with every turn; what goes upstream, either way, is held to what a
        // client may send.
        guard max(chatBody.readableBytes, native.body.readableBytes) <= chat.maxRequestBytes else {
            throw GatewayError(
                status: .contentTooLarge,
                message:
                    "The conversation continued by 'previous_response_id' has grown to \(max(chatBody.readableBytes, native.body.readableBytes)) bytes, past the gateway's server.max_request_bytes (\(chat.maxRequestBytes)). Start a new conversation, or send its gist as input.",
                type: "invalid_request_error",
                param: "previous_response_id",
                code: "conversation_too_large"
            )
        }
        let translated = ResponsesChatRequest(
            responses: responses,
            chat: try GatewayExtensionField.chatRequest(translated: chatBody, from: body),
            native: native,
            nativeOnlyHistory: ResponsesInput.nativeOnlyItems(in: history)
        )
        let admitted = try await AdmittedRequest(
            translated,
            headers: request.headers,
            context: context,
            planning: chat.planning,
            accounting: chat.accounting
        )
        let saving = ResponseSaving(
            store: responses.store ? store : nil,
            owner: owner,
            history: history,
            inputItems: responses.inputItems,
            logger: context.logger
        )
        let keepNative: @Sendable (ByteBuffer) async -> Void = { response in
            // Read into a tree only to be stored: most native answers pass through untouched.
            guard saving.store != nil, let parsed = try? JSONValue.parse(response) else { return }
            await saving.save(parsed)
        }
        let path = FrontDoorPath(chat: chat)
        let translatable = !translated.requiresNativeTarget
        let id = Self.newResponseID()
        let createdAt = Int(Date().timeIntervalSince1970)
        if responses.isStreaming {
            let framing = ResponsesFraming(request: responses, id: id, createdAt: createdAt, saving: saving)
            return await path.stream(
                admitted,
                native: native,
                translatable: translatable,
                responseID: id,
                previousResponseID: responses.previousResponseID,
                framing: framing,
                endpoint: Self.endpoint,
                envelope: .openAI,
                completedNatively: keepNative
            )
        }
        return await path.complete(
            admitted,
            native: native,
            translatable: translatable,
            responseID: id,
            previousResponseID: responses.previousResponseID,
            endpoint: Self.endpoint,
            envelope: .openAI,
            renderTranslated: { priced throws(GatewayError) in
                let answer = try ChatAnswer.reading(priced.body)
                let response = ResponsesRenderer.response(from: answer, request: responses, id: id, createdAt: createdAt)
                await saving.save(response)
                return response.buffer
            },
            answeredNatively: keepNative
        )
    }

    /// The body a target that speaks the Responses API gets: the client's, except that a request
    /// continuing a stored response sends the whole conversation as `input` (the earlier turns
    /// made fit for the target by ``ResponsesReplay``, then the client's own input as it sent it)
    /// and no `previous_response_id`, which only this gateway knows.
    static func nativeBody(_ body: ByteBuffer, continuing history: [JSONValue], request: ResponsesRequest) -> ByteBuffer {
        guard request.previousResponseID != nil else { return body }
        let members = body.withUnsafeReadableBytes { (try? JSONScanner.topLevelMembers(of: $0)) ?? [] }
        var input = ResponsesReplay.forNativeTarget(history)
        if let given = members.last(where: { $0.key == "input" }) {
            let value = body.withUnsafeReadableBytes { bytes in
                try? JSONValue.parse(ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[given.value])))
            }
            switch value {
            case .string(let text)?: input.append(["role": "user", "content": .string(text)])
            case .array(let items)?: input += items
            default: input += request.inputItems
            }
        }
        return JSONObjectRewriter.rewrite(
            body,
            members: members,
            replacing: [(key: "input", value: JSONValue.array(input).buffer)],
            removing: ["previous_response_id"]
        )
    }

    /// `GET /v1/responses/{id}`: the stored response.
    func retrieve(_ id: String, context: GatewayRequestContext) async throws -> Response {
        let stored = try await stored(id, owner: context.caller.owner, logger: context.logger)
        return Self.json(ByteBuffer(string: stored.response))
    }

    /// `DELETE /v1/responses/{id}`: forgets the stored response.
    func delete(_ id: String, context: GatewayRequestContext) async throws -> Response {
        let deleted: Bool
        do {
            deleted = try await store.delete(id: id, owner: context.caller.owner)
        } catch {
            throw Self.storageUnavailable(error, logger: context.logger)
        }
        guard deleted else { throw Self.notFound(id) }
        let answer: JSONValue = ["id": .string(id), "object": "response.deleted", "deleted": true]
        return Self.json(answer.buffer)
    }

    /// `GET /v1/responses/{id}/input_items`: the stored response's input items, as a list page
    /// (`limit` 1 to 100, default 20; `order` `desc` (default) or `asc`; `after` an item id).
    func inputItems(_ id: String, request: Request, context: GatewayRequestContext) async throws -> Response {
        let stored = try await stored(id, owner: context.caller.owner, logger: context.logger)
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...100).contains(value) else {
                throw GatewayError.invalidRequest(
                    "Invalid 'limit': expected an integer from 1 to 100, but got '\(EchoedName.shortened(String(text)))'.",
                    param: "limit",
                    code: "invalid_value"
                )
            }
            limit = value
        }
        let order = query["order"].map(String.init) ?? "desc"
        guard order == "asc" || order == "desc" else {
            throw GatewayError.invalidRequest(
                "Invalid 'order': expected 'asc' or 'desc', but got '\(EchoedName.shortened(order))'.",
                param: "order",
                code: "invalid_value"
            )
        }
        guard var items = (try? JSONValue.parse(stored.inputItems))?.arrayValue else {
            throw Self.corrupt(id, logger: context.logger)
        }
        if order == "desc" { items.reverse() }
        if let after = query["after"].map(String.init) {
            guard let position = items.firstIndex(where: { $0["id"]?.stringValue == after }) else {
                throw GatewayError.invalidRequest(
                    "No input item with id '\(EchoedName.shortened(after))' in response '\(EchoedName.shortened(id))'.",
                    param: "after",
                    code: "invalid_value"
                )
            }
            items.removeFirst(position + 1)
        }
        let page = Array(items.prefix(limit))
        let answer: JSONValue = [
            "object": "list",
            "data": .array(page),
            "first_id": page.first?["id"] ?? .null,
            "last_id": page.last?["id"] ?? .null,
            "has_more": .bool(items.count > page.count),
        ]
        return Self.json(answer.buffer)
    }

    /// The conversation that `previousResponseID` ended with, for the next turn; empty without one.
    private func history(continuing previousResponseID: String?, owner: String, logger: Logger) async throws(GatewayError) -> [JSONValue] {
        guard let previousResponseID else { return [] }
        let previous: StoredResponse
        do throws(GatewayError) {
            previous = try await stored(previousResponseID, owner: owner, logger: logger)
        } catch {
            guard error.status == .notFound else { throw error }
            throw GatewayError(
                status: .notFound,
                message: "Previous response with id '\(EchoedName.shortened(previousResponseID))' not found.",
                type: "invalid_request_error",
                param: "previous_response_id",
                code: "previous_response_not_found"
            )
        }
        // Continuing without the earlier turns would answer a different conversation.
        guard let conversation = (try? JSONValue.parse(previous.conversation))?.arrayValue else {
            throw Self.corrupt(previousResponseID, logger: logger)
        }
        return conversation
    }

    private func stored(_ id: String, owner: String, logger: Logger) async throws(GatewayError) -> StoredResponse {
        // Known to be away: answer at once rather than after a store call's deadline.
        guard store.database.health.isAvailable else { throw Self.storageUnavailable(nil, logger: logger) }
        let stored: StoredResponse?
        do {
            stored = try await store.response(id: id, owner: owner)
        } catch {
            throw Self.storageUnavailable(error, logger: logger)
        }
        guard let stored else { throw Self.notFound(id) }
        return stored
    }

    /// A new response id: `resp_` and 128 random bits. Unguessable: on a gateway without a master
    /// key every caller is the same owner, and the id is all that keeps one conversation from another.
    static func newResponseID() -> String {
        var generator = SystemRandomNumberGenerator()
        return ResponsesItemID.random(prefix: "resp", using: &generator)
    }

    private static func json(_ body: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    private static func notFound(_ id: String) -> GatewayError {
        GatewayError(
            status: .notFound,
            message: "Response with id '\(EchoedName.shortened(id))' not found.",
            type: "invalid_request_error",
            code: "response_not_found"
        )
    }

    /// The 503 of a store that failed. The database's own words go to the log, not to the client:
    /// they may name hosts, and any caller may reach this on an open gateway.
    private static func storageUnavailable(_ error: (any Error)?, logger: Logger) -> GatewayError {
        logger.warning(
            "stored responses unavailable",
            metadata: ["error": "\(error.map(GatewayDatabase.describe) ?? "the database is known to be unavailable")"]
        )
        return GatewayError(
            status: .serviceUnavailable,
            message: "The gateway's storage of responses is unavailable; try again shortly.",
            type: "server_error",
            code: "storage_unavailable"
        )
    }

    /// The 500 of a stored response whose JSON does not read back.
    private static func corrupt(_ id: String, logger: Logger) -> GatewayError {
        logger.error("a stored response does not read back as JSON", metadata: ["response_id": "\(id)"])
        return GatewayError(
            status: .internalServerError,
            message: "The stored response '\(EchoedName.shortened(id))' could not be read back.",
            type: "server_error",
            code: "stored_response_unreadable"
        )
    }
}
