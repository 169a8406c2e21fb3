import MultiProdigyJSON
import NIOCore

/// A client's request in one of the ``NativeAPI``s, to be passed through to an upstream that speaks
/// that API: ``upstreamBody(model:)`` copies the client's bytes, rewriting only `model` and removing
/// the gateway's own `multiprodigy` field.
///
/// ```swift
/// let request = try NativeRequest(api: .messages, body: body, passedHeaders: ["anthropic-beta": "prompt-caching-2024-07-31"])
/// let upstream = request.upstreamBody(model: "claude-sonnet-4-5")
/// ```
public struct NativeRequest: Sendable {
    /// The API the body is in.
    public let api: NativeAPI
    /// The client's body, unchanged.
    public let body: ByteBuffer
    /// The top-level members of `body`.
    public let members: [JSONMember]
    /// Whether the client asked for a server-sent-event stream (`"stream": true`).
    public let isStreaming: Bool
    /// The client's headers that belong to the API and go upstream with it, by lower-case name
    /// (Anthropic's `anthropic-version` and `anthropic-beta`). Never credentials.
    public var passedHeaders: [String: String]

    /// The client headers an API passes on to its upstream.
    public static func passedHeaderNames(for api: NativeAPI) -> [String] {
        switch api {
        case .messages, .messagesCountTokens: ["anthropic-version", "anthropic-beta"]
        case .responses: []
        }
    }

    /// Reads `body`, which the front door has already validated as a JSON object.
    ///
    /// - Throws: ``GatewayError`` (400) when `body` is not a JSON object.
    public init(api: NativeAPI, body: ByteBuffer, passedHeaders: [String: String] = [:]) throws(GatewayError) {
        let members: [JSONMember]
        let isStreaming: Bool
        do {
            (members, isStreaming) = try body.withUnsafeReadableBytes { bytes throws(JSONSyntaxError) in
                let members = try JSONScanner.topLevelMembers(of: bytes)
                let stream = members.last { $0.key == "stream" && $0.kind == .bool }
                return (members, stream.map { bytes[$0.value.lowerBound] == UInt8(ascii: "t") } ?? false)
            }
        } catch {
            throw GatewayError.invalidRequest("The request body is not a JSON object.")
        }
        self.api = api
        self.body = body
        self.members = members
        self.isStreaming = api == .messagesCountTokens ? false : isStreaming
        self.passedHeaders = passedHeaders
    }

    /// The body to send upstream: the client's, with `model` set to `upstreamModel` and the gateway's
    /// `multiprodigy` field removed.
    public func upstreamBody(model upstreamModel: String) -> ByteBuffer {
        JSONObjectRewriter.rewrite(
            body,
            members: members,
            replacing: [(key: "model", value: JSONWriter.encodedString(upstreamModel))],
            removing: [ChatCompletionRequest.extensionField]
        )
    }
}

/// One call in a ``NativeAPI`` to one upstream target.
public typealias NativeCall = ProviderCall<NativeRequest>
