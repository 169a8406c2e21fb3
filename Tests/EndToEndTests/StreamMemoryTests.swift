import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// What a stream holds in the gateway does not grow with its length: the real executable relays a
/// 100 MB answer to a client that reads as fast as it can, and its resident memory barely moves.
/// Nor does what streams leave behind grow with their number: 16,000 short ones leave it flat.
///
/// Resident memory is read from `/proc/<pid>/status`: the baseline (`VmRSS`) after a warm-up
/// request, the peak (`VmHWM`, reset through `clear_refs` once warm) when the streams are over.
///
/// They keep both cores of a CI machine busy for about two minutes (debug build), which
/// would make the suite's timing tests fail beside them, so they run only when
/// `MULTIPRODIGY_MEMORY_TESTS=1`, on their own: `.ci/run` runs them after `swift test`.
@Suite(
    .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["MULTIPRODIGY_MEMORY_TESTS"] == "1",
        "set MULTIPRODIGY_MEMORY_TESTS=1 to run them, alone: swift test --filter StreamMemoryTests"
    )
)
struct StreamMemoryTests {
    /// The size of the long answer, as the issue names it.
    static let answerBytes = 100_000_000

    /// One content chunk of about 1 KB of English-like text, as an upstream streaming a long
    /// answer quickly sends it.
    static let contentChunk: String = {
        let sentence = "The quick brown fox jumps over the lazy dog, and then it runs far away. "
        return FakeUpstream.contentChunk(String(repeating: sentence, count: 13))
    }()

    /// How many chunks make `bytes` of SSE.
    static func chunkCount(forBytes bytes: Int) -> Int {
        bytes / ("data: \(contentChunk)\n\n".utf8.count)
    }

    static func longAnswer(bytes: Int) -> FakeBehaviour {
        .repeatedStream(
            event: contentChunk,
            count: chunkCount(forBytes: bytes),
            last: [FakeUpstream.finishChunk(), FakeUpstream.usageChunk()]
        )
    }

    static func yaml(upstreamPort: Int) -> String {
        """
        providers:
          fake: {type: openai, base_url: "http://127.0.0.1:\(upstreamPort)/v1", locality: local}
        models:
          big: {provider: fake}
        resilience:
          timeouts: {total: 900s}
        """
    }

    /// A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`); nil when it cannot be read.
    static func memoryField(_ field: String, of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kilobytes = line.dropFirst(field.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    /// Resets the process's peak resident memory to its current value (Linux 4.0+); false if refused.
    static func resetPeak(of pid: Int32) -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/\(pid)/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }

    /// Streams one answer from the gateway, reading as fast as it comes and keeping none of it.
    /// Returns how many bytes arrived and whether the stream ended with `[DONE]`.
    static func readAndDiscard(port: Int) async throws -> (bytes: Int, endedWithDone: Bool) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"big","messages":[{"role":"user","content":"hi"}],"stream":true}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        #expect(response.status == .ok)
        var total = 0
        var tail: [UInt8] = []
        for try await part in response.body {
            total += part.readableBytes
            tail.append(contentsOf: part.readableBytesView.suffix(32))
            if tail.count > 32 { tail.removeFirst(tail.count - 32) }
        }
        return (total, String(decoding: tail, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
    }

    /// Runs `streams` long answers at once through the real gateway, after a warm-up of as many
    /// short ones, and returns how far its resident memory rose above the warm baseline.
    static func residentGrowth(streams: Int) async throws -> Int {
        let upstream = FakeUpstream(longAnswer(bytes: answerBytes))
        upstream.script(Array(repeating: longAnswer(bytes: 2_000_000), count: streams))
        return try await withServingGatewayProcess(upstream: upstream, yaml: { yaml(upstreamPort: $0) }) { gateway, client in
            let pid = gateway.process.processIdentifier
            let warmUp = try await readConcurrently(streams, port: client.port)
            #expect(warmUp.allSatisfy { $0.endedWithDone }, "\(gateway.log)")
            try await Task.sleep(for: .milliseconds(200))
            let canResetPeak = resetPeak(of: pid)
            let baseline = try #require(memoryField("VmRSS", of: pid))
            let started = ContinuousClock.now
            // Sampled too, in case the peak could not be reset.
            let sampler = Task {
                var highest = 0
                while !Task.isCancelled {
                    highest = max(highest, memoryField("VmRSS", of: pid) ?? 0)
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return highest
            }
            let results = try await readConcurrently(streams, port: client.port)
            let elapsed = ContinuousClock.now - started
            sampler.cancel()
            let sampledPeak = await sampler.value
            let peak = canResetPeak ? max(sampledPeak, memoryField("VmHWM", of: pid) ?? 0) : sampledPeak
            for result in results {
                #expect(result.endedWithDone, "every answer arrives whole")
                #expect(result.bytes > answerBytes * 9 / 10)
            }
            let growth = peak - baseline
            print(
                "StreamMemoryTests: \(streams) stream(s) of \(answerBytes / 1_000_000) MB in \(elapsed): "
                    + "baseline \(baseline >> 20) MiB, peak \(peak >> 20) MiB, growth \(growth >> 20) MiB"
            )
            return growth
        }
    }

    static func readConcurrently(_ count: Int, port: Int) async throws -> [(bytes: Int, endedWithDone: Bool)] {
        try await withThrowingTaskGroup(of: (bytes: Int, endedWithDone: Bool).self) { group in
            for _ in 0..<count { group.addTask { try await readAndDiscard(port: port) } }
            var results: [(bytes: Int, endedWithDone: Bool)] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    /// Many short streams leave nothing behind: before SlicedSleep, each left a cancelled timer
    /// of about 750 bytes queued for its whole stall or total deadline, so 16,000 streams grew the
    /// gateway by about 12 MB.
    @Test func sixteenThousandShortStreamsLeaveResidentMemoryFlat() async throws {
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hi", "!"])))
        let streams = 16_000
        let concurrency = 8
        let growth = try await withServingGatewayProcess(upstream: upstream, yaml: { Self.yaml(upstreamPort: $0) }) { gateway, client in
            let pid = gateway.process.processIdentifier
            func run(_ count: Int) async throws {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<concurrency {
                        group.addTask {
                            for _ in stride(from: worker, to: count, by: concurrency) {
                                let result = try await Self.readAndDiscard(port: client.port)
                                #expect(result.endedWithDone)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await run(2_000)
            try await Task.sleep(for: .milliseconds(500))
            let baseline = try #require(Self.memoryField("VmRSS", of: pid))
            let started = ContinuousClock.now
            try await run(streams)
            try await Task.sleep(for: .milliseconds(500))
            let after = try #require(Self.memoryField("VmRSS", of: pid))
            print(
                "StreamMemoryTests: \(streams) short streams in \(ContinuousClock.now - started): "
                    + "baseline \(baseline >> 10) KiB, after \(after >> 10) KiB"
            )
            return after - baseline
        }
        #expect(growth < 5_000_000, "resident memory grew by \(growth >> 10) KiB over \(streams) short streams")
    }

    @Test func oneLongStreamToAFastClientMovesResidentMemoryByLessThan20MB() async throws {
        let growth = try await Self.residentGrowth(streams: 1)
        #expect(growth < 20_000_000, "resident memory grew by \(growth >> 20) MiB")
    }

    @Test func fourLongStreamsAtOnceMoveResidentMemoryByLessThan60MB() async throws {
        let growth = try await Self.residentGrowth(streams: 4)
        #expect(growth < 60_000_000, "resident memory grew by \(growth >> 20) MiB")
    }
}
