import MultiProdigyJSON
import Testing

@testable import MultiProdigyCore

/// What each native event means to the relay: content commits a stream, the API's last event of
/// a complete answer ends it, an in-band failure fails it.
@Suite struct NativeStreamEventTests {
    static func event(_ type: String, _ fields: String = "", name: String? = nil) -> SSEEvent {
        SSEEvent(name: name ?? type, data: Array(#"{"type":"\#(type)"\#(fields)}"#.utf8))
    }

    @Test(arguments: [
        ("response.created", NativeStreamEvent.other),
        ("response.in_progress", .other),
        // An item that opens is not content yet: a reasoning model may think in silence after it.
        ("response.output_item.added", .other),
        ("response.output_text.delta", .content),
        ("response.function_call_arguments.delta", .content),
        ("response.reasoning_summary_text.delta", .content),
        // A tool the provider runs is at work: the answer may have no text at all.
        ("response.web_search_call.searching", .content),
        ("response.image_generation_call.partial_image", .content),
        ("response.output_text.done", .other),
        ("response.completed", .completion),
        ("response.incomplete", .completion),
    ])
    func responsesEvents(type: String, meaning: NativeStreamEvent) {
        #expect(NativeStreamEvent.classify(Self.event(type), api: .responses) == meaning)
    }

    @Test(arguments: [
        ("message_start", NativeStreamEvent.other),
        ("ping", .other),
        ("content_block_start", .other),
        ("content_block_delta", .content),
        ("content_block_stop", .other),
        ("message_delta", .other),
        ("message_stop", .completion),
    ])
    func messagesEvents(type: String, meaning: NativeStreamEvent) {
        #expect(NativeStreamEvent.classify(Self.event(type), api: .messages) == meaning)
    }

    @Test func failuresCarryTheUpstreamsMessage() {
        let anthropic = Self.event("error", #","error":{"type":"overloaded_error","message":"Overloaded"}"#)
        #expect(NativeStreamEvent.classify(anthropic, api: .messages) == .failure(message: "Overloaded"))
        let failed = Self.event("response.failed", #","response":{"error":{"code":"server_error","message":"boom"}}"#)
        #expect(NativeStreamEvent.classify(failed, api: .responses) == .failure(message: "boom"))
        let error = Self.event("error", #","code":"x","message":"bad"}"#.dropLast().description)
        #expect(NativeStreamEvent.classify(error, api: .responses) == .failure(message: "bad"))
    }

    @Test func theDataTypeIsReadBeforeTheEventName() {
        let event = SSEEvent(name: "message_stop", data: Array(#"{"type":"content_block_delta"}"#.utf8))
        #expect(NativeStreamEvent.classify(event, api: .messages) == .content)
        let unnamed = SSEEvent(name: nil, data: Array(#"{"type":"message_stop"}"#.utf8))
        #expect(NativeStreamEvent.classify(unnamed, api: .messages) == .completion)
    }
}
