import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// Reads a streamed answer in a ``NativeAPI`` event by event, as the gateway passes it through:
/// decides what to write for each event, renames the model, finds the usage, and counts the text.
///
/// One inspector per streamed answer. Each event's data is scanned once; only the few events that
/// carry the model or the final usage are rewritten, every other one is written as it came.
///
/// - Anthropic Messages: `message_start`'s `message.model` is renamed and its usage kept;
///   `message_delta` carries the final usage (``NativeStreamStep/usage(_:)``); `message_stop` ends the
///   answer; `event: error` is an ``NativeStreamStep/upstreamError(type:message:)``.
/// - OpenAI Responses: `response.created`, `.queued`, `.in_progress`, `.completed` and `.incomplete`
///   carry `response.model`, renamed; `.completed` and `.incomplete` end the answer with its usage (an
///   incomplete response is a whole answer that says why it stopped); `error` and `response.failed`
///   are upstream errors. The last `sequence_number` seen is kept so that the gateway's own error
///   event continues the sequence.
///
/// ```swift
/// var inspector = NativeStreamInspector(api: .messages, modelName: "claude")
/// for try await event in stream.events {
///     switch inspector.inspect(event) {
///     case .forward(let frame): try await writer.write(frame)
///     case .usage(let usage): try await writer.write(inspector.pricedFrame(costUSD: price(usage)))
///     case .upstreamError(let type, let message): try await writer.write(inspector.errorFrame(type: type ?? "api_error", message: scrub(message)))
///     case .malformed(let reason): …
///     case .skip: continue
///     }
/// }
/// ```
public struct NativeStreamInspector: Sendable {
    /// The API the stream is in; `.messagesCountTokens`, never streamed, is read as `.messages`.
    public let api: NativeAPI
    /// The target's name as a JSON string, which every `model` the stream carries becomes.
    private let modelName: ByteBuffer
    /// The gateway's id for a Responses answer, which replaces the upstream's; nil keeps it.
    private let responseID: ByteBuffer?
    /// The `previous_response_id` the client sent, which the upstream never saw (the gateway sends
    /// the conversation instead) and so cannot echo.
    private let previousResponseID: ByteBuffer?
    /// Whether the API's terminal success event has been inspected: Anthropic's `message_stop`,
    /// Responses' `response.completed` or `response.incomplete`.
    public private(set) var isComplete = false
    /// The best usage known so far: for Anthropic, `message_start`'s input counts with the latest
    /// output count; for Responses, the final event's usage. Nil until an event reported one; for a
    /// stream cut short, what it had reported.
    public private(set) var reportedUsage: TokenUsage?
    /// The characters of answer text and tool-call arguments the deltas carried so far, to estimate
    /// the output tokens when the upstream reports no usage.
    ///
    /// Anthropic `content_block_delta`s' `text_delta.text`, `input_json_delta.partial_json` and
    /// `thinking_delta.thinking`; Responses' `response.output_text.delta`, `.refusal.delta`,
    /// `.function_call_arguments.delta`, `.reasoning_text.delta` and `.reasoning_summary_text.delta`.
    public private(set) var outputCharacters = 0
    /// Responses only: the `response` object of `response.completed` or `response.incomplete` as it
    /// was written (model renamed, cost added), for the gateway to store. Set by
    /// ``pricedFrame(costUSD:)``, or by ``inspect(_:)`` when that event carries no usage.
    public private(set) var completedResponse: ByteBuffer?
    /// Anthropic: the usage counts reported so far (`message_start`, then each `message_delta`).
    private var messagesCounts = MessagesUsageCounts()
    /// Responses: the highest `sequence_number` seen, or written by ``errorFrame(type:message:)``.
    private var lastSequenceNumber: Int?
    /// The event that reported the final usage, kept until ``pricedFrame(costUSD:)`` writes it.
    private var usageEvent: UsageEvent?

    /// An event carrying the final usage, with what its one scan found.
    private struct UsageEvent: Sendable {
        /// The upstream's `event:` name.
        var name: String?
        /// The event's data.
        var data: ByteBuffer
        /// The data's top-level members.
        var members: [JSONMember]
        /// Responses: the members of the `response` object, which holds `model` and `usage`; nil for
        /// Anthropic, whose `usage` is at the top level.
        var responseMembers: [JSONMember]?
        /// The members of the `usage` object.
        var usageMembers: [JSONMember]
    }

    /// Creates the inspector of one streamed answer.
    ///
    /// - Parameters:
    ///   - api: The API the upstream streams in.
    ///   - modelName: The gateway's name for the target, which the client sees as `model`.
    ///   - responseID: For Responses, the gateway's own id for the answer, which the client sees
    ///     (and stores and continues it by) instead of the upstream's; nil keeps the upstream's.
    ///   - previousResponseID: For Responses, the client's `previous_response_id`, echoed in the
    ///     response objects as OpenAI does.
    public init(api: NativeAPI, modelName: String, responseID: String? = nil, previousResponseID: String? = nil) {
        self.api = api
        self.modelName = JSONWriter.encodedString(modelName)
        self.responseID = api == .responses ? responseID.map(JSONWriter.encodedString) : nil
        self.previousResponseID = api == .responses ? previousResponseID.map(JSONWriter.encodedString) : nil
    }

    /// Decides what to write for `event`, and notes what it says (usage, completion, text).
    public mutating func inspect(_ event: SSEEvent) -> NativeStreamStep {
        if event.isDoneSentinel { return .skip }
        return event.data.withUnsafeBytes { bytes -> NativeStreamStep in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else {
                return .malformed(reason: "the event's data is not a JSON object")
            }
            guard let type = members.last(where: { $0.key == "type" && $0.kind == .string }) else {
                return .malformed(reason: "the event's data has no string `type`")
            }
            let read = ReadEvent(name: event.name, bytes: bytes, members: members, type: type.value)
            switch api {
            case .responses: return inspectResponsesEvent(read)
            case .messages, .messagesCountTokens: return inspectMessagesEvent(read)
            }
        }
    }

    /// The event that reported ``NativeStreamStep/usage(_:)``, to write in its place: renamed as
    /// every event is, with `cost_usd` added to its usage object when `costUSD` is given. Empty when
    /// no event is waiting (called twice, or without a `.usage` step).
    ///
    /// - Parameter costUSD: The answer's cost as a JSON number (`CostAnnotation.number(_:)`), nil
    ///   when unknown. Bytes rather than a `Double` because the gateway's cost formatting lives in a
    ///   layer above this one.
    public mutating func pricedFrame(costUSD: ByteBuffer?) -> ByteBuffer {
        guard let event = usageEvent else { return ByteBuffer() }
        usageEvent = nil
        let usage = costUSD.map {
            JSONObjectRewriter.rewrite(event.data, members: event.usageMembers, replacing: [(key: "cost_usd", value: $0)])
        }
        var data = event.data
        if let responseMembers = event.responseMembers {
            var replacements = renamingModel(in: responseMembers)
            if let usage { replacements.append((key: "usage", value: usage)) }
            let response = JSONObjectRewriter.rewrite(event.data, members: responseMembers, replacing: replacements)
            completedResponse = response
            data = JSONObjectRewriter.rewrite(event.data, members: event.members, replacing: [(key: "response", value: response)])
        } else if let usage {
            data = JSONObjectRewriter.rewrite(event.data, members: event.members, replacing: [(key: "usage", value: usage)])
        }
        return data.withUnsafeReadableBytes { Self.frame(name: event.name, data: $0) }
    }

    /// The API's own in-band error event, for the gateway to end the stream with.
    ///
    /// - Anthropic: `event: error` with `{"type":"error","error":{"type":…,"message":…}}`.
    /// - Responses: `event: error` with `{"type":"error","code":…,"message":…,"param":null,
    ///   "sequence_number":…}`, numbered one past the last event seen (0 when none was), so that the
    ///   sequence keeps increasing.
    ///
    /// - Parameters:
    ///   - type: Anthropic's `error.type` or Responses' `code`.
    ///   - message: The message, already scrubbed.
    public mutating func errorFrame(type: String, message: String) -> ByteBuffer {
        var data = ByteBuffer()
        switch api {
        case .responses:
            // An upstream numbering up to Int.max cannot be continued; repeating it beats trapping.
            let sequenceNumber = lastSequenceNumber.map { $0 == Int.max ? $0 : $0 + 1 } ?? 0
            lastSequenceNumber = sequenceNumber
            data.writeStaticString(#"{"type":"error","code":"#)
            JSONWriter.writeString(type, into: &data)
            data.writeStaticString(#","message":"#)
            JSONWriter.writeString(message, into: &data)
            data.writeString(#","param":null,"sequence_number":\#(sequenceNumber)}"#)
        case .messages, .messagesCountTokens:
            data.writeStaticString(#"{"type":"error","error":{"type":"#)
            JSONWriter.writeString(type, into: &data)
            data.writeStaticString(#","message":"#)
            JSONWriter.writeString(message, into: &data)
            data.writeStaticString("}}")
        }
        return data.withUnsafeReadableBytes { Self.frame(name: "error", data: $0) }
    }

    // MARK: Anthropic Messages

    private mutating func inspectMessagesEvent(_ event: ReadEvent) -> NativeStreamStep {
        if event.isType("content_block_delta") {
            if let delta = event.objectMembers("delta") {
                outputCharacters +=
                    JSONScanner.characterCount(ofString: "text", in: delta, bytes: event.bytes)
                    + JSONScanner.characterCount(ofString: "partial_json", in: delta, bytes: event.bytes)
                    + JSONScanner.characterCount(ofString: "thinking", in: delta, bytes: event.bytes)
            }
            return event.forwardUnchanged
        }
        if event.isType("message_start") {
            guard let message = event.objectMembers("message") else { return event.forwardUnchanged }
            if let usage = event.objectMembers("usage", in: message) {
                messagesCounts = messagesCounts.updated(by: MessagesUsageCounts(fields: usage, in: event.bytes))
                reportedUsage = messagesCounts.tokenUsage ?? reportedUsage
            }
            let renaming = renamingModel(in: message)
            guard !renaming.isEmpty else { return event.forwardUnchanged }
            let source = ByteBuffer(bytes: event.bytes)
            let renamed = JSONObjectRewriter.rewrite(source, members: message, replacing: renaming)
            return .forward(Self.frame(name: event.name, data: source, members: event.members, replacing: "message", with: renamed))
        }
        if event.isType("message_delta") {
            guard let usageMembers = event.objectMembers("usage") else { return event.forwardUnchanged }
            messagesCounts = messagesCounts.updated(by: MessagesUsageCounts(fields: usageMembers, in: event.bytes))
            guard let usage = messagesCounts.tokenUsage else { return event.forwardUnchanged }
            reportedUsage = usage
            usageEvent = UsageEvent(
                name: event.name,
                data: ByteBuffer(bytes: event.bytes),
                members: event.members,
                responseMembers: nil,
                usageMembers: usageMembers
            )
            return .usage(usage)
        }
        if event.isType("message_stop") {
            isComplete = true
            return event.forwardUnchanged
        }
        if event.isType("error") {
            let error = event.objectMembers("error") ?? []
            return .upstreamError(
                type: event.string("type", in: error),
                message: event.string("message", in: error) ?? "The upstream reported an error in the stream."
            )
        }
        return event.forwardUnchanged
    }

    // MARK: OpenAI Responses

    private mutating func inspectResponsesEvent(_ event: ReadEvent) -> NativeStreamStep {
        if let number = event.members.last(where: { $0.key == "sequence_number" && $0.kind == .number }),
            let sequenceNumber = JSONScanner.integer(at: number.value, in: event.bytes)
        {
            lastSequenceNumber = max(lastSequenceNumber ?? sequenceNumber, sequenceNumber)
        }
        if event.isType("response.output_text.delta") || event.isType("response.function_call_arguments.delta")
            || event.isType("response.refusal.delta") || event.isType("response.reasoning_text.delta")
            || event.isType("response.reasoning_summary_text.delta")
        {
            outputCharacters += JSONScanner.characterCount(ofString: "delta", in: event.members, bytes: event.bytes)
            return event.forwardUnchanged
        }
        if event.isType("response.completed") || event.isType("response.incomplete") {
            isComplete = true
            guard let response = event.member("response", kind: .object),
                let responseMembers = try? JSONScanner.members(ofObjectAt: response.value, in: event.bytes)
            else { return event.forwardUnchanged }
            if let usageMembers = event.objectMembers("usage", in: responseMembers),
                let usage = TokenUsage.readResponsesUsage(fields: usageMembers, in: event.bytes)
            {
                reportedUsage = usage
                usageEvent = UsageEvent(
                    name: event.name,
                    data: ByteBuffer(bytes: event.bytes),
                    members: event.members,
                    responseMembers: responseMembers,
                    usageMembers: usageMembers
                )
                return .usage(usage)
            }
            let renaming = renamingModel(in: responseMembers)
            guard !renaming.isEmpty else {
                completedResponse = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: event.bytes[response.value]))
                return event.forwardUnchanged
            }
            let source = ByteBuffer(bytes: event.bytes)
            let renamed = JSONObjectRewriter.rewrite(source, members: responseMembers, replacing: renaming)
            completedResponse = renamed
            return .forward(Self.frame(name: event.name, data: source, members: event.members, replacing: "response", with: renamed))
        }
        if event.isType("response.created") || event.isType("response.in_progress") || event.isType("response.queued") {
            guard let response = event.objectMembers("response") else { return event.forwardUnchanged }
            let renaming = renamingModel(in: response)
            guard !renaming.isEmpty else { return event.forwardUnchanged }
            let source = ByteBuffer(bytes: event.bytes)
            let renamed = JSONObjectRewriter.rewrite(source, members: response, replacing: renaming)
            return .forward(Self.frame(name: event.name, data: source, members: event.members, replacing: "response", with: renamed))
        }
        if event.isType("response.failed") {
            let response = event.objectMembers("response") ?? []
            // A failed response may still say what it used, which the gateway then accounts for.
            if let usageMembers = event.objectMembers("usage", in: response),
                let usage = TokenUsage.readResponsesUsage(fields: usageMembers, in: event.bytes)
            {
                reportedUsage = usage
            }
            let error = event.objectMembers("error", in: response) ?? []
            return .upstreamError(
                type: event.string("code", in: error),
                message: event.string("message", in: error) ?? "The upstream's response failed."
            )
        }
        if event.isType("error") {
            return .upstreamError(
                type: event.string("code", in: event.members),
                message: event.string("message", in: event.members) ?? "The upstream reported an error in the stream."
            )
        }
        return event.forwardUnchanged
    }

    // MARK: Frames

    /// The replacements that rename `model` and, for a Responses object, set the gateway's `id` and
    /// the client's `previous_response_id`, where `members` has them (none is added where the
    /// upstream sent none).
    private func renamingModel(in members: [JSONMember]) -> [(key: String, value: ByteBuffer)] {
        var replacements: [(key: String, value: ByteBuffer)] = []
        if let responseID, members.contains(where: { $0.key == "id" }) { replacements.append((key: "id", value: responseID)) }
        if members.contains(where: { $0.key == "model" }) { replacements.append((key: "model", value: modelName)) }
        if let previousResponseID, members.contains(where: { $0.key == "previous_response_id" }) {
            replacements.append((key: "previous_response_id", value: previousResponseID))
        }
        return replacements
    }

    /// The frame of an event whose data is `source` with member `key` replaced by `value`.
    private static func frame(
        name: String?,
        data source: ByteBuffer,
        members: [JSONMember],
        replacing key: String,
        with value: ByteBuffer
    )
        -> ByteBuffer
    {
        let data = JSONObjectRewriter.rewrite(source, members: members, replacing: [(key: key, value: value)])
        return data.withUnsafeReadableBytes { frame(name: name, data: $0) }
    }

    /// One server-sent-event frame: `event: <name>` when there is a name, the data, a blank line.
    ///
    /// Data whose JSON spans lines (only its whitespace can: strings hold no raw line breaks) is
    /// written as one `data:` line per line, which the client's parser joins back with `\n`.
    static func frame(name: String?, data: UnsafeRawBufferPointer) -> ByteBuffer {
        var frame = ByteBufferAllocator().buffer(capacity: data.count + 8 + (name.map { $0.utf8.count + 8 } ?? 0))
        if let name {
            frame.writeStaticString("event: ")
            frame.writeString(name)
            frame.writeStaticString("\n")
        }
        frame.writeStaticString("data: ")
        var lineStart = 0
        for index in data.indices where data[index] == 0x0A || data[index] == 0x0D {
            frame.writeBytes(UnsafeRawBufferPointer(rebasing: data[lineStart..<index]))
            frame.writeStaticString("\ndata: ")
            lineStart = index + 1
        }
        frame.writeBytes(UnsafeRawBufferPointer(rebasing: data[lineStart...]))
        frame.writeStaticString("\n\n")
        return frame
    }
}

extension NativeStreamInspector {
    /// One event's data as its single scan found it.
    private struct ReadEvent {
        /// The upstream's `event:` name.
        var name: String?
        /// The data.
        var bytes: UnsafeRawBufferPointer
        /// Its top-level members.
        var members: [JSONMember]
        /// Where its `type` string sits (quotes included).
        var type: Range<Int>

        /// Whether `type` is `name`, compared on the bytes (the type strings are longer than Swift's
        /// small strings, so decoding each would allocate).
        func isType(_ name: StaticString) -> Bool {
            let count = name.utf8CodeUnitCount
            guard type.count == count + 2 else { return false }
            return UnsafeRawBufferPointer(rebasing: bytes[(type.lowerBound + 1)..<(type.upperBound - 1)])
                .elementsEqual(UnsafeRawBufferPointer(start: name.utf8Start, count: count))
        }

        /// The event written as it came.
        var forwardUnchanged: NativeStreamStep {
            .forward(NativeStreamInspector.frame(name: name, data: bytes))
        }

        /// The last member `key` of `members` (the top level when not given) of the given kind.
        func member(_ key: String, kind: JSONValueKind, in members: [JSONMember]? = nil) -> JSONMember? {
            (members ?? self.members).last { $0.key == key && $0.kind == kind }
        }

        /// The members of the object member `key` of `members` (the top level when not given).
        func objectMembers(_ key: String, in members: [JSONMember]? = nil) -> [JSONMember]? {
            guard let member = member(key, kind: .object, in: members) else { return nil }
            return try? JSONScanner.members(ofObjectAt: member.value, in: bytes)
        }

        /// The string member `key` of `members`, decoded; nil when there is none.
        func string(_ key: String, in members: [JSONMember]) -> String? {
            member(key, kind: .string, in: members).map { JSONScanner.decodeString(at: $0.value, in: bytes) }
        }
    }
}
