import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

@testable import MultiProdigyJSON
@testable import MultiProdigyServer

/// The bytes of answers' heads and chunks, against literal fixtures.
@Suite struct HTTPResponseEncodingTests {
    private func head(
        _ response: HTTPResponse,
        version: HTTPVersion = .http1_1,
        connection: String? = nil,
        framing: HTTPResponseEncoding.Framing = .sized
    ) -> String {
        String(
            buffer: HTTPResponseEncoding.head(
                response,
                version: version,
                date: "Wed, 25 Nov 2026 06:00:00 GMT",
                connection: connection,
                framing: framing,
                allocator: ByteBufferAllocator()
            )
        )
    }

    @Test func aSizedOKHeadKeepsItsFieldsInOrderThenTheDate() {
        let response = HTTPResponse(status: .ok, headerFields: [.contentType: "application/json", .contentLength: "2"])
        #expect(
            head(response)
                == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\ndate: Wed, 25 Nov 2026 06:00:00 GMT\r\n\r\n"
        )
    }

    @Test func otherStatusesVersionsAndConnectionsAreSpelledOut() {
        let response = HTTPResponse(status: .contentTooLarge, headerFields: [HTTPField.Name("x-a")!: "é"])
        #expect(
            head(response, version: .http1_0, connection: "close")
                == "HTTP/1.0 413 Content Too Large\r\nx-a: é\r\ndate: Wed, 25 Nov 2026 06:00:00 GMT\r\nconnection: close\r\n\r\n"
        )
        let custom = HTTPResponse(status: .init(code: 599, reasonPhrase: "Odd"))
        #expect(head(custom) == "HTTP/1.1 599 Odd\r\ndate: Wed, 25 Nov 2026 06:00:00 GMT\r\n\r\n")
    }

    @Test func aStreamedHeadSaysItIsChunked() {
        let response = HTTPResponse(status: .ok, headerFields: [.contentType: "text/event-stream"])
        #expect(
            head(response, framing: .chunked)
                == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\ndate: Wed, 25 Nov 2026 06:00:00 GMT\r\ntransfer-encoding: chunked\r\n\r\n"
        )
    }

    @Test func framingFollowsTheLengthTheStatusAndTheVersion() {
        let plain = HTTPResponse(status: .ok)
        #expect(HTTPResponseEncoding.framing(of: plain, bodyLength: 12, version: .http1_1) == .sized)
        #expect(HTTPResponseEncoding.framing(of: plain, bodyLength: nil, version: .http1_1) == .chunked)
        #expect(HTTPResponseEncoding.framing(of: plain, bodyLength: nil, version: .http1_0) == .closeDelimited)
        #expect(HTTPResponseEncoding.framing(of: HTTPResponse(status: .noContent), bodyLength: nil, version: .http1_1) == .sized)
        let declared = HTTPResponse(status: .ok, headerFields: [.contentLength: "5"])
        #expect(HTTPResponseEncoding.framing(of: declared, bodyLength: nil, version: .http1_1) == .sized)
    }

    @Test func chunksCarryTheirHexadecimalSizeAndTheLastOneItsTrailers() {
        let allocator = ByteBufferAllocator()
        let chunk = HTTPResponseEncoding.chunk(ByteBuffer(string: String(repeating: "a", count: 26)), allocator: allocator)
        #expect(String(buffer: chunk) == "1a\r\n" + String(repeating: "a", count: 26) + "\r\n")
        #expect(String(buffer: HTTPResponseEncoding.lastChunk(trailers: nil, allocator: allocator)) == "0\r\n\r\n")
        let trailers: HTTPFields = [HTTPField.Name("x-done")!: "yes"]
        #expect(String(buffer: HTTPResponseEncoding.lastChunk(trailers: trailers, allocator: allocator)) == "0\r\nx-done: yes\r\n\r\n")
    }

    @Test(arguments: [0, 7, 10, -5, 1_234_567_890, Int.max, Int.min])
    func decimalsAreWrittenWithoutStrings(_ value: Int) {
        var bytes = [UInt8](repeating: 0, count: UnsafeByteWriter.maximumDecimalLength)
        let count = bytes.withUnsafeMutableBytes { output in
            var writer = UnsafeByteWriter(output)
            writer.appendDecimal(value)
            return writer.count
        }
        #expect(String(decoding: bytes[..<count], as: UTF8.self) == String(value))
    }
}

/// Request heads become swift-http-types requests as SwiftNIO's conversion makes them.
@Suite struct HTTPRequestHeadConversionTests {
    private func head(_ uri: String, method: HTTPMethod = .POST, headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    @Test(arguments: [
        "/v1/chat/completions",
        "/v1/models/a%2Fb?x=1&y=%20",
        "/",
        "http://gw.example:4100/v1/models?x=1",
        "*",
    ])
    func agreesWithSwiftNIOsConversion(_ uri: String) throws {
        let headers = [
            ("Host", "gw:4100"), ("Content-Type", "application/json"), ("host", "second"), ("Cookie", "a=1; b=2"), ("X-Custom", "v"),
        ]
        for method in [HTTPMethod.POST, .GET, .DELETE] {
            let original = head(uri, method: method, headers: headers)
            let expected = Result { try HTTPRequest(original, secure: false, splitCookie: false) }
            let converted = Result { try HTTPRequest(gatewayHead: original) }
            switch (converted, expected) {
            case (.success(let converted), .success(let expected)): #expect(converted == expected, "\(method) \(uri)")
            case (.failure, .failure): #expect(uri == "*", "only the asterisk form is refused by both")
            default: Issue.record("\(method) \(uri): \(converted) but SwiftNIO's conversion gives \(expected)")
            }
        }
    }

    @Test func aHeadWithoutHostHasNoAuthorityAndKeepsItsFields() throws {
        let request = try HTTPRequest(gatewayHead: head("/health", method: .GET, headers: [("Accept", "*/*"), ("bad name", "x")]))
        #expect(request.authority == nil)
        #expect(request.path == "/health")
        #expect(request.method == .get)
        #expect(request.headerFields == [.accept: "*/*"])
    }
}
