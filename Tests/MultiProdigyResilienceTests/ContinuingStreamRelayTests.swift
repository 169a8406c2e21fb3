import Logging
import NIOCore
import Synchronization
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyCore
@testable import MultiProdigyResilience
@testable import MultiProdigyRouting

/// ``ContinuingStreamRelay`` driven by scripted provider streams, without sockets: what the client
/// is sent, which targets are asked to continue and with what, how each segment is counted, and
/// the in-band error when no target can continue.
@Suite struct ContinuingStreamRelayTests {
    /// What a scripted upstream does with one streaming call, named after the fault it injects.
    enum Script: Sendable {
        /// Sends the chunks, then `[DONE]`.
        case complete([String])
        /// Sends the chunks, then drops the connection.
        case cutAfter([String])
        /// Refuses the call before streaming anything.
        case refuse(ProviderError)
    }

    /// An upstream that plays one script per streaming call and keeps the bodies it was sent.
    final class ScriptedProvider: LLMProvider {
        private let scripts: Mutex<[Script]>
        private let received = Mutex<[String]>([])

        init(_ scripts: Script...) {
            self.scripts = Mutex(scripts)
        }

        /// The request bodies of the streaming calls made, in order.
        var bodies: [String] { received.withLock { $0 } }

        func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
            throw ProviderError(kind: .client, message: "the scripted upstream only streams")
        }

        func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
            received.withLock { $0.append(String(buffer: call.request.body)) }
            let script = scripts.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            let (events, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
            switch script {
            case .complete(let chunks):
                for chunk in chunks { continuation.yield(.chunk(ByteBuffer(string: chunk))) }
                continuation.yield(.done)
                continuation.finish()
            case .cutAfter(let chunks):
                for chunk in chunks { continuation.yield(.chunk(ByteBuffer(string: chunk))) }
                continuation.finish(throwing: ProviderError(kind: .connection, message: "connection reset by peer"))
            case .refuse(let error):
                throw error
            case nil:
                throw ProviderError(kind: .client, message: "no script left")
            }
            return ChatCompletionStream(events: events)
        }
    }

    /// Keeps what the metrics would count.
    final class RecordingObserver: AttemptObserver {
        let failures = Mutex<[String]>([])
        let failovers = Mutex<[String]>([])
        let malformed = Mutex<[String]>([])

        func attemptFailed(_ target: RouteTarget, error: ProviderError) {
            failures.withLock { $0.append("\(target.name):\(error.kind.rawValue)") }
        }

        func failedOver(route: String, from: RouteTarget, to: RouteTarget, reason: ProviderError.Kind) {
            failovers.withLock { $0.append("\(route):\(from.name)->\(to.name):\(reason.rawValue)") }
        }

        func skippedMalformedChunks(from target: RouteTarget, count: Int) {
            malformed.withLock { $0.append("\(target.name):\(count)") }
        }

        let continuations = Mutex<[String]>([])

        func continuationEnded(route: String, at target: RouteTarget, outcome: ContinuationOutcome) {
            continuations.withLock { $0.append("\(target.name):\(outcome.rawValue)") }
        }
    }

    static func chunk(_ delta: String, id: String = "first", created: Int = 100, finish: String = "null") -> String {
        #"{"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":"upstream","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finish)}]}"#
    }

    static func text(_ value: String, id: String = "first", created: Int = 100) -> String {
        chunk(#"{"content":"\#(value)"}"#, id: id, created: created)
    }

    static func role(id: String = "first", created: Int = 100) -> String {
        chunk(#"{"role":"assistant","content":""}"#, id: id, created: created)
    }

    static func finish(id: String) -> String { chunk("{}", id: id, created: 200, finish: #""stop""#) }

    static let chatBody = #"{"model":"r","messages":[{"role":"user","content":"hi"}],"stream":true}"#

    static func target(_ name: String) -> RouteTarget {
        RouteTarget(name: name, providerName: name, upstreamModel: "\(name)-upstream")
    }

    /// What one test runs against: providers by name, each with its continuation style.
    struct Setup {
        let tracker = LatencyTracker()
        let observer = RecordingObserver()
        var providers: [(name: String, provider: ScriptedProvider, style: ContinuationStyle?, locality: Locality)] = []
        var privateReason: String?
        var bounds = ContinuingStreamRelay.Bounds(maximumTranscriptBytes: 1 << 20)
        var chatBody = ContinuingStreamRelayTests.chatBody
        var splices = true

        mutating func add(_ name: String, _ provider: ScriptedProvider, style: ContinuationStyle? = .prefill, locality: Locality = .local) {
            providers.append((name, provider, style, locality))
        }

        /// Starts the answer on the plan of every provider, in the order added.
        func start() async throws -> ContinuingStreamRelay {
            let slots = Dictionary(
                uniqueKeysWithValues: providers.map {
                    (
                        $0.name,
                        ProviderSlot(
                            config: ProviderConfig(name: $0.name, type: "openai", baseURL: "http://127.0.0.1:1", locality: $0.locality),
                            provider: $0.provider
                        )
                    )
                }
            )
            let executor = FailoverExecutor(providers: slots, tracker: tracker, observer: observer)
            let plan = RoutePlan(
                requestedName: "r",
                routeName: "r",
                privateReason: privateReason,
                promptTokens: 10,
                entries: providers.map {
                    PlannedTarget(
                        target: ContinuingStreamRelayTests.target($0.name),
                        locality: $0.locality,
                        estimatedCostUSD: 0,
                        predictedLatency: nil,
                        placement: .listed(position: 1)
                    )
                },
                timeouts: TimeoutSettings(),
                splicesContinuations: splices
            )
            let styles = Dictionary(uniqueKeysWithValues: providers.map { ($0.name, $0.style) })
            var upstreamTime = Duration.zero
            let result = await executor.stream(
                try ChatCompletionRequest.parse(ByteBuffer(string: chatBody)),
                plan: plan,
                totalDeadline: .now + .seconds(30),
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                bounds: bounds,
                continuationStyle: { styles[$0.name] ?? nil },
                upstreamTime: &upstreamTime
            )
            guard case .success(let answer, _, _) = result else {
                Issue.record("the first stream did not commit: \(result)")
                throw CancellationError()
            }
            return answer
        }
    }

    /// Everything the answer yields, chunks as text, and the iterator for what it kept.
    static func drain(
        _ answer: ContinuingStreamRelay
    ) async throws -> (
        chunks: [String], ending: ContinuingStreamRelay.Event?, events: ContinuingStreamRelay.Iterator
    ) {
        var events = answer.makeAsyncIterator()
        defer { events.cancel() }
        var chunks: [String] = []
        var ending: ContinuingStreamRelay.Event?
        for _ in 0..<100 {
            guard let event = try await events.next() else { break }
            switch event {
            case .chunks(let sent): chunks += sent.map { String(buffer: $0) }
            case .completed, .interrupted: ending = event
            }
        }
        return (chunks, ending, events)
    }

    static func interruption(_ ending: ContinuingStreamRelay.Event?) -> GatewayError? {
        if case .interrupted(let error) = ending { return error }
        return nil
    }

    @Test func aCutAnswerIsContinuedOnTheNextTargetAsTheSameStream() async throws {
        let first = ScriptedProvider(.cutAfter([Self.role(), Self.text("Hello wor")]))
        let second = ScriptedProvider(
            .complete([Self.role(id: "other", created: 999), Self.text("ld", id: "other", created: 999), Self.finish(id: "other")])
        )
        var setup = Setup()
        setup.add("a", first)
        setup.add("b", second)
        let (chunks, ending, events) = try await Self.drain(try await setup.start())

        guard case .completed(let usageChunk) = ending else {
            Issue.record("the answer did not complete: \(String(describing: ending))")
            return
        }
        #expect(usageChunk == nil, "a continued answer's usage is the segments', not one upstream's")
        #expect(chunks.count == 4, "the continuation's role announcement is dropped: \(chunks)")
        #expect(chunks.allSatisfy { $0.contains(#""id":"first""#) && $0.contains(#""created":100"#) }, "\(chunks)")
        #expect(chunks.allSatisfy { $0.contains(#""model":"a""#) }, "every chunk names the target that started the answer")
        #expect(events.transcript.text == "Hello world")
        #expect(
            second.bodies == [
                #"{"model":"r","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hello wor"}],"stream":true}"#
            ]
        )
        #expect(events.segments.map(\.target.name) == ["a", "b"])
        #expect(events.lastTarget.name == "b")
        #expect(events.continuationAttempts == 1)
        #expect(setup.observer.failures.withLock { $0 } == ["a:connection"])
        #expect(setup.observer.failovers.withLock { $0 } == ["r:a->b:connection"])
    }

    @Test func eachSegmentIsEstimatedFromThePromptAndItsOwnText() async throws {
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("one two three four")])))
        setup.add("b", ScriptedProvider(.complete([Self.text(" five six"), Self.finish(id: "b")])))
        let (_, _, events) = try await Self.drain(try await setup.start())

        let segments = events.segments
        try #require(segments.count == 2)
        #expect(segments.allSatisfy { $0.usage.isEstimated })
        #expect(segments[0].usage.promptTokens == 10, "the plan's prompt")
        #expect(segments[0].usage.completionTokens > 0)
        #expect(
            segments[1].usage.promptTokens == 10 + segments[0].usage.completionTokens,
            "a continuation's prompt carries the text already sent"
        )
        #expect(segments[1].usage.completionTokens > 0)
    }

    @Test func aRestartedAnswerAlignedWithTheCutIsSplicedAndCounted() async throws {
        // `b` cannot continue: asked again, it writes the text already sent as one chunk, then the rest.
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.role(), Self.text("Hello wor")])))
        setup.add(
            "b",
            ScriptedProvider(
                .complete([Self.role(id: "b"), Self.text("Hello wor", id: "b"), Self.text("ld", id: "b"), Self.finish(id: "b")])
            ),
            style: nil
        )
        let (chunks, ending, events) = try await Self.drain(try await setup.start())
        guard case .completed = ending else {
            Issue.record("the answer did not complete: \(String(describing: ending))")
            return
        }
        #expect(events.transcript.text == "Hello world")
        #expect(chunks.allSatisfy { !$0.contains(#""id":"b""#) })
        #expect(setup.observer.continuations.withLock { $0 } == ["b:spliced"])
        let spliced = try #require(events.segments.last)
        #expect(spliced.target.name == "b")
        #expect(spliced.usage.promptTokens == 10, "asked the client's prompt alone")
        #expect(spliced.usage.completionTokens > 0)
    }

    @Test func aRestartedAnswerThatEndsBeforeCatchingUpIsADivergence() async throws {
        // `b`'s stream says it is done without a finish reason, before reaching the cut.
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.role(), Self.text("Hello wor")])))
        setup.add("b", ScriptedProvider(.complete([Self.role(id: "b"), Self.text("Hel", id: "b")])), style: nil)
        let (chunks, ending, _) = try await Self.drain(try await setup.start())
        let error = try #require(Self.interruption(ending))
        #expect(error.message.contains("departed from the text already sent"))
        #expect(error.message.contains("The answer from a was interrupted: connection reset by peer"))
        #expect(chunks.joined().contains("Hello wor"))
        #expect(setup.observer.continuations.withLock { $0 } == ["b:diverged"])
    }

    @Test func aDivergenceNamesTheTargetThatWasCutLast() async throws {
        // `a` is cut, `b` continues from the prefill and is cut in turn, `c` restarts and diverges.
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.role(), Self.text("Hello ")])))
        setup.add("b", ScriptedProvider(.cutAfter([Self.role(id: "b"), Self.text("wor", id: "b")])))
        setup.add("c", ScriptedProvider(.complete([Self.role(id: "c"), Self.text("Goodbye", id: "c")])), style: nil)
        let (_, ending, _) = try await Self.drain(try await setup.start())
        let error = try #require(Self.interruption(ending))
        #expect(error.message.hasPrefix("The answer from b was interrupted: connection reset by peer."), "\(error.message)")
        #expect(error.message.contains("c was asked the request again"))
        #expect(setup.observer.continuations.withLock { $0 } == ["b:prefilled", "c:diverged"])
    }

    @Test func withSplicingOffATargetThatCannotContinueIsNotAskedAgain() async throws {
        let cannot = ScriptedProvider(.complete([Self.text("Hello world"), Self.finish(id: "x")]))
        var setup = Setup()
        setup.splices = false
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("Hel")])))
        setup.add("b", cannot, style: nil)
        let (_, ending, _) = try await Self.drain(try await setup.start())
        #expect(Self.interruption(ending) != nil)
        #expect(cannot.bodies.isEmpty)
    }

    @Test func aTargetThatCannotContinueIsPassedOver() async throws {
        let cannot = ScriptedProvider(.complete([Self.text("never"), Self.finish(id: "x")]))
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("Hel")])))
        setup.add("b", cannot, style: nil)
        setup.add("c", ScriptedProvider(.complete([Self.text("lo"), Self.finish(id: "c")])))
        let (_, ending, events) = try await Self.drain(try await setup.start())

        guard case .completed = ending else {
            Issue.record("the answer did not complete: \(String(describing: ending))")
            return
        }
        #expect(cannot.bodies.isEmpty)
        #expect(events.segments.map(\.target.name) == ["a", "c"])
    }

    @Test func aRefusedContinuationMovesOnToTheNextTarget() async throws {
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("Hel")])))
        setup.add("b", ScriptedProvider(.refuse(ProviderError(kind: .client, message: "prefill not supported", upstreamStatus: 400))))
        setup.add("c", ScriptedProvider(.complete([Self.text("lo"), Self.finish(id: "c")])))
        let (_, ending, events) = try await Self.drain(try await setup.start())

        guard case .completed = ending else {
            Issue.record("the answer did not complete: \(String(describing: ending))")
            return
        }
        #expect(events.transcript.text == "Hello")
        #expect(events.continuationAttempts == 2, "one refused, one that committed")
        #expect(events.lastTarget.name == "c")
    }

    @Test func aPrivateAnswerIsNeverContinuedOnACloudTarget() async throws {
        let cloud = ScriptedProvider(.complete([Self.text("lo"), Self.finish(id: "cloud")]))
        var setup = Setup()
        setup.privateReason = "header"
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("Hel")])))
        setup.add("cloud", cloud, locality: .cloud)
        let (_, ending, _) = try await Self.drain(try await setup.start())

        #expect(cloud.bodies.isEmpty)
        #expect(Self.interruption(ending)?.message.contains("No later target could continue it") == true)
    }

    @Test func withoutAContinuingTargetTheAnswerEndsWithAnInBandError() async throws {
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("Hel")])))
        let (chunks, ending, events) = try await Self.drain(try await setup.start())

        let error = try #require(Self.interruption(ending))
        #expect(chunks.count == 1)
        #expect(error.status == .badGateway)
        #expect(error.code == "stream_interrupted")
        #expect(
            error.message
                == "The answer from a was interrupted: connection reset by peer. No later target could continue it; the response is incomplete."
        )
        #expect(events.segments.map(\.target.name) == ["a"])
    }

    @Test func aToolCallAnswerIsNotContinued() async throws {
        let second = ScriptedProvider(.complete([Self.text("x"), Self.finish(id: "b")]))
        var setup = Setup()
        setup.add("a", ScriptedProvider(.cutAfter([Self.chunk(#"{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f"}}]}"#)])))
        setup.add("b", second)
        let (_, ending, _) = try await Self.drain(try await setup.start())

        #expect(second.bodies.isEmpty)
        #expect(Self.interruption(ending)?.message.contains("Only text answers can be continued") == true)
    }

    @Test func anAnswerLongerThanTheTranscriptBoundIsNotContinued() async throws {
        let second = ScriptedProvider(.complete([Self.text("x"), Self.finish(id: "b")]))
        var setup = Setup()
        setup.bounds.maximumTranscriptBytes = 4
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("longer than four")])))
        setup.add("b", second)
        let (_, ending, _) = try await Self.drain(try await setup.start())

        #expect(second.bodies.isEmpty)
        #expect(Self.interruption(ending)?.message.contains("server.max_stream_transcript_bytes, 4B") == true)
    }

    @Test func anAnswerOfSeveralChoicesIsNotContinued() async throws {
        let second = ScriptedProvider(.complete([Self.text("x"), Self.finish(id: "b")]))
        var setup = Setup()
        setup.chatBody = #"{"model":"r","messages":[{"role":"user","content":"hi"}],"stream":true,"n":2}"#
        setup.add("a", ScriptedProvider(.cutAfter([Self.text("Hel")])))
        setup.add("b", second)
        let (_, ending, _) = try await Self.drain(try await setup.start())

        #expect(second.bodies.isEmpty)
        #expect(
            Self.interruption(ending)?.message == "The answer from a was interrupted: connection reset by peer. The response is incomplete."
        )
    }

    @Test func aCompleteAnswerHandsOnItsUpstreamsUsageAndTeachesTheAnswerLength() async throws {
        let usage =
            #"{"id":"first","object":"chat.completion.chunk","created":100,"model":"upstream","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":42,"total_tokens":49}}"#
        var setup = Setup()
        setup.add("a", ScriptedProvider(.complete([Self.text("Hello"), Self.finish(id: "first"), usage, "not json"])))
        let (chunks, ending, events) = try await Self.drain(try await setup.start())

        guard case .completed(let usageChunk) = ending else {
            Issue.record("the answer did not complete: \(String(describing: ending))")
            return
        }
        #expect(chunks.count == 2, "the usage chunk is the caller's to send: \(chunks)")
        #expect(usageChunk.map { String(buffer: $0) }?.contains(#""completion_tokens":42"#) == true)
        #expect(events.segments == [StreamSegment(target: Self.target("a"), usage: TokenUsage(promptTokens: 7, completionTokens: 42))])
        #expect(setup.tracker.answerLength(route: "r") == 42, "the route learns its answer length")
        #expect(setup.observer.malformed.withLock { $0 } == ["a:1"])
    }

    @Test func theCommittedTargetCountsInFlightUntilTheAnswerEnds() async throws {
        var setup = Setup()
        setup.add("a", ScriptedProvider(.complete([Self.text("Hello"), Self.finish(id: "first")])))
        let answer = try await setup.start()
        let key = Self.target("a").statisticsKey
        #expect(setup.tracker.observation(for: key).inFlight == 1)
        _ = try await Self.drain(answer)
        #expect(setup.tracker.observation(for: key).inFlight == 0)
    }
}
