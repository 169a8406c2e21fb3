import Foundation

/// A response of the Responses API as the gateway keeps it (`store: true`), column for column.
///
/// The JSON columns hold text exactly as the gateway wrote it: the store neither parses nor checks
/// them. A continuation (`previous_response_id`) reads ``conversation`` alone, so a conversation
/// never needs its earlier responses, which may have expired.
///
/// ```swift
/// let row = StoredResponse(
///     id: "resp_abc", owner: "key:" + key.id, createdAt: Date(timeIntervalSince1970: 1_767_225_600),
///     model: "gpt-4o-mini", status: "completed",
///     response: #"{"id":"resp_abc","object":"response",…}"#,
///     inputItems: #"[{"type":"message","role":"user","content":"Hi"}]"#,
///     conversation: #"[{"type":"message","role":"user","content":"Hi"},{"type":"message","role":"assistant",…}]"#
/// )
/// try await database.responses.save(row)
/// ```
public struct StoredResponse: Sendable, Equatable {
    /// The response's id (`resp_…`), unique across the database.
    public var id: String
    /// Who may read or delete it: `key:` and a virtual key's id, `master`, or `none` on a gateway without
    /// keys (the server's `RequestCaller.owner`).
    public var owner: String
    /// When the response was created; stored as seconds since 1970, so whole seconds read back equal.
    public var createdAt: Date
    /// The model that answered, as the response names it.
    public var model: String?
    /// The response's status (`completed`, `incomplete`, `failed`…).
    public var status: String?
    /// The response object, as JSON text.
    public var response: String
    /// This request's input items, as a JSON array.
    public var inputItems: String
    /// Every item a continuation needs, as a JSON array: the previous conversation, this input, this output.
    public var conversation: String

    /// A row from its columns.
    public init(
        id: String,
        owner: String,
        createdAt: Date,
        model: String?,
        status: String?,
        response: String,
        inputItems: String,
        conversation: String
    ) {
        self.id = id
        self.owner = owner
        self.createdAt = createdAt
        self.model = model
        self.status = status
        self.response = response
        self.inputItems = inputItems
        self.conversation = conversation
    }

    /// The columns of `stored_responses` in the order both engines write and read them.
    static let columns = "id, owner, created_at, model, status, response, input_items, conversation"
}
