import MultiProdigyCore
import MultiProdigyJSON
import NIOCore
import Testing

@testable import MultiProdigyFrontDoor

/// A generator counting 1, 2, 3, …, so that the ids given to input items are literal in tests.
struct CountingGenerator: RandomNumberGenerator {
    var count: UInt64 = 0

    mutating func next() -> UInt64 {
        count += 1
        return count
    }
}

/// Helpers shared by the Responses tests.
enum ResponsesFixture {
    /// `body` parsed with counting ids.
    static func request(_ body: String) throws -> ResponsesRequest {
        var generator = CountingGenerator()
        return try ResponsesRequest.parse(ByteBuffer(string: body), using: &generator)
    }

    /// The chat body for `body` after `history`, parsed back.
    static func chat(_ body: String, history: [JSONValue] = []) throws -> JSONValue {
        try JSONValue.parse(request(body).chatBody(history: history))
    }

    /// The error parsing `body` throws; nil when it parses.
    static func error(_ body: String) -> GatewayError? {
        do {
            _ = try ResponsesRequest.parse(ByteBuffer(string: body))
            return nil
        } catch {
            return error
        }
    }

    /// A literal JSON value.
    static func json(_ text: String) throws -> JSONValue {
        try JSONValue.parse(text)
    }

    /// The events of an SSE text: each event's name and its data parsed.
    static func events(_ buffer: ByteBuffer) throws -> [(name: String, data: JSONValue)] {
        let text = String(buffer: buffer)
        var events: [(name: String, data: JSONValue)] = []
        for block in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            let lines = block.split(separator: "\n")
            try #require(lines.count == 2)
            try #require(lines[0].hasPrefix("event: ") && lines[1].hasPrefix("data: "))
            events.append((String(lines[0].dropFirst(7)), try JSONValue.parse(String(lines[1].dropFirst(6)))))
        }
        return events
    }
}
