import Foundation
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyResilience

/// Every way a restarted answer's chunks can meet the text already sent, as a table.
@Suite struct StreamSpliceUnitTests {
    static func chunk(_ delta: String, finish: String = "null", extra: String = "") -> ByteBuffer {
        ByteBuffer(
            string: #"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":"# + delta
                + #","finish_reason":"# + finish + extra + "}]}"
        )
    }

    static func text(_ value: String, finish: String = "null") -> ByteBuffer { chunk(#"{"content":"\#(value)"}"#, finish: finish) }

    /// What one step sent, as the text of its delta and its finish reason; "withhold" or "diverged".
    static func describe(_ step: StreamSplice.Step) -> String {
        switch step {
        case .withhold: return "withhold"
        case .diverged: return "diverged"
        case .send(let chunk):
            let json = try? JSONValue.parse(chunk)
            let choice = json?["choices"]?.arrayValue?.first
            let content = choice?["delta"]?["content"]?.stringValue ?? "-"
            let finish = choice?["finish_reason"]?.stringValue ?? "-"
            return "send \(content) \(finish)"
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let sent: String
        let chunks: [ByteBuffer]
        let expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "role, then the same text in other pieces, then more",
            sent: "Hello wor",
            chunks: [
                chunk(#"{"role":"assistant","content":""}"#), text("Hel"), text("lo w"), text("orld"), text("!"),
                text("", finish: #""stop""#),
            ],
            expected: ["withhold", "withhold", "withhold", "send ld -", "send ! -", "send  stop"]
        ),
        Case(
            name: "a chunk ending exactly at the cut",
            sent: "Hello wor",
            chunks: [text("Hello wor"), text("ld")],
            expected: ["withhold", "send ld -"]
        ),
        Case(
            name: "divergence in the first chunk",
            sent: "Hello wor",
            chunks: [text("Hi"), text("there")],
            expected: ["diverged", "diverged"]
        ),
        Case(name: "divergence past the cut inside one chunk", sent: "Hello wor", chunks: [text("Hello there")], expected: ["diverged"]),
        Case(
            name: "divergence after a match",
            sent: "Hello wor",
            chunks: [text("Hello"), text(" Wor")],
            expected: ["withhold", "diverged"]
        ),
        Case(
            name: "the new answer ends before the cut",
            sent: "Hello wor",
            chunks: [text("Hello", finish: #""stop""#)],
            expected: ["diverged"]
        ),
        Case(
            name: "the new answer ends exactly at the cut",
            sent: "Hello wor",
            chunks: [text("Hello "), text("wor", finish: #""length""#)],
            expected: ["withhold", "send - length"]
        ),
        Case(
            name: "a tool call before catching up",
            sent: "Hello wor",
            chunks: [chunk(#"{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":""}}]}"#)],
            expected: ["diverged"]
        ),
        Case(
            name: "multi-byte text split across chunks",
            sent: "Grüße, 世",
            chunks: [text("Grü"), text("ße, 世界"), text("!")],
            expected: ["withhold", "send 界 -", "send ! -"]
        ),
        Case(
            name: "a chunk that is not JSON before catching up",
            sent: "Hi",
            chunks: [ByteBuffer(string: "{oops")],
            expected: ["diverged"]
        ),
        Case(
            name: "another choice before catching up",
            sent: "Hi",
            chunks: [ByteBuffer(string: #"{"choices":[{"index":1,"delta":{"content":"Hi"},"finish_reason":null}]}"#)],
            expected: ["diverged"]
        ),
        Case(
            name: "a chunk without choices before catching up is withheld",
            sent: "Hi",
            chunks: [
                ByteBuffer(string: #"{"id":"x","prompt_filter_results":[]}"#), ByteBuffer(string: #"{"id":"x","choices":[]}"#), text("Hi!"),
            ],
            expected: ["withhold", "withhold", "send ! -"]
        ),
        Case(
            name: "after catching up every chunk goes on, whatever it holds",
            sent: "Hi",
            chunks: [
                text("Hi"), ByteBuffer(string: #"{"choices":[{"index":1,"delta":{"content":"x"},"finish_reason":null}]}"#),
                ByteBuffer(string: "{oops"),
            ],
            expected: ["withhold", "send x -", "send - -"]
        ),
        Case(
            name: "empty deltas are withheld",
            sent: "Hi",
            chunks: [chunk("{}"), text("Hi"), text(" there")],
            expected: ["withhold", "withhold", "send  there -"]
        ),
    ]

    @Test(arguments: cases)
    func eachChunkIsWithheldSentOrADivergence(_ testCase: Case) {
        var splice = StreamSplice(sent: testCase.sent)
        let steps = testCase.chunks.map { Self.describe(splice.admit($0)) }
        #expect(steps == testCase.expected)
    }

    @Test func theChunkThatGoesPastTheCutLosesItsLogprobsAndRole() throws {
        var splice = StreamSplice(sent: "Hel")
        let chunk = Self.chunk(
            #"{"role":"assistant","content":"Hello"}"#,
            extra: #","logprobs":{"content":[{"token":"Hello","logprob":-1}]}"#
        )
        guard case .send(let sent) = splice.admit(chunk) else {
            Issue.record("not sent")
            return
        }
        let choice = try JSONValue.parse(sent)["choices"]?.arrayValue?.first
        #expect(choice?["delta"]?["content"]?.stringValue == "lo")
        #expect(choice?["delta"]?["role"] == nil)
        #expect(choice?["logprobs"] == .null)
        #expect(try JSONValue.parse(sent)["id"]?.stringValue == "x")
    }

    @Test func whatTheNewAnswerWroteIsCountedWithheldOrSent() {
        var splice = StreamSplice(sent: "Hello wor")
        for chunk in [Self.text("Hello "), Self.text("world"), Self.text("!")] { _ = splice.admit(chunk) }
        var whole = StreamSplice(sent: "")
        _ = whole.admit(Self.text("Hello world!"))
        #expect(splice.writtenTokens == whole.writtenTokens)
        #expect(splice.writtenTokens > 0)
        #expect(splice.hasCaughtUp)
    }
}
