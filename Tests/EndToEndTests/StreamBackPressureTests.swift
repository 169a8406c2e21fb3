import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// Back-pressure from a slow client to the upstream: the gateway reads the upstream only as fast as
/// the client takes the answer, instead of buffering it; and a client that pauses is not taken for
/// an upstream that stalled.
@Suite struct StreamBackPressureTests {
    /// A content chunk of about 1 KB.
    static let chunk = FakeUpstream.contentChunk(String(repeating: "x", count: 1000))

    @Test func aSlowClientGetsAnAnswerManyTimesLargerThanWhatMayWaitForIt() async throws {
        // 8 MB of answer, larger than max_response_bytes; a stall limit shorter than the client's pause.
        let upstream = FakeUpstream(.repeatedStream(event: Self.chunk, count: 8_000, last: [FakeUpstream.finishChunk()]))
        let yaml = """
            server: {max_response_bytes: 1MiB}
            resilience: {timeouts: {stall: 1s, total: 60s}}
            providers:
            \(fakeProvider("a", index: 0))models:
              first: {provider: a}
            """
        try await withGateway(upstreams: [upstream], yaml: yaml) { gateway in
            var request = HTTPClientRequest(url: "\(gateway.baseURL)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"model":"first","messages":[{"role":"user","content":"hi"}],"stream":true}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            #expect(response.status == .ok)
            var total = 0
            var tail: [UInt8] = []
            var paused = false
            for try await part in response.body {
                total += part.readableBytes
                tail.append(contentsOf: part.readableBytesView.suffix(64))
                if tail.count > 64 { tail.removeFirst(tail.count - 64) }
                // About 10 MB/s, far slower than the gateway reads, with one pause of 2 s (twice
                // the stall limit) a quarter of the way in.
                if !paused, total > 3_000_000 {
                    paused = true
                    try await Task.sleep(for: .seconds(2))
                }
                try await Task.sleep(for: .microseconds(part.readableBytes / 10))
            }
            let ending = String(decoding: tail, as: UTF8.self)
            #expect(total > 8_000_000)
            #expect(ending.hasSuffix("data: [DONE]\n\n"), "the answer ended: …\(ending)")
            #expect(!ending.contains("error"))
        }
        #expect(upstream.requests.count == 1, "no continuation: the upstream never stalled")
    }
}
