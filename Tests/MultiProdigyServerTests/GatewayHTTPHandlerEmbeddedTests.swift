import HTTPTypes
import Hummingbird
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import TestFixtures
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyServer
@testable import MultiProdigyCore

/// ``GatewayHTTPHandler`` in the gateway's pipeline (``GatewayHTTPChannel/addHandlers(serving:to:)``)
/// on an in-memory channel: bytes in, bytes out, and the reads and closes the pipeline asks of the
/// socket, with no socket and no timing of a real network.
///
/// The channel is `NIOAsyncTestingChannel`, `EmbeddedChannel`'s thread-safe sibling in NIOEmbedded:
/// the handler answers from a task of its own, which writes to the channel from another thread.
@Suite struct GatewayHTTPHandlerEmbeddedTests {
    /// What the pipeline asked of the socket: the reads it issued and the closes, in order.
    final class SocketRecorder: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = Any

        enum Request: Equatable, Sendable { case read, close(CloseMode) }

        let requests = Mutex<[Request]>([])

        func read(context: ChannelHandlerContext) {
            requests.withLock { $0.append(.read) }
            context.read()
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            requests.withLock { $0.append(.close(mode)) }
            context.close(mode: mode, promise: promise)
        }

        var reads: Int { requests.withLock { $0.filter { $0 == .read }.count } }
        var closes: [CloseMode] {
            requests.withLock { $0.compactMap { if case .close(let mode) = $0 { mode } else { nil } } }
        }
    }

    /// A connection served by the handler, with a scripted responder: it answers `ok:<path>`, and a
    /// path starting with `/slow` waits for ``release(_:)`` first.
    final class Connection: Sendable {
        let channel = NIOAsyncTestingChannel()
        let recorder = SocketRecorder()
        private let state = State()
        private let output = Mutex<[UInt8]>([])

        /// What the responder shares with the tests.
        private final class State: Sendable {
            let dispatched = Mutex<[String]>([])
            let gates = Mutex<[String: CheckedContinuation<Void, Never>]>([:])
        }

        /// The paths of the requests that reached the responder, in order.
        var dispatched: [String] { state.dispatched.withLock { $0 } }

        init(
            maxBody: Int = 1000,
            limits: ClientDeadlineStateMachine.Limits = ClientDeadlineStateMachine.Limits(ServerSettings()),
            refusesBeforeBody: @escaping GatewayHTTPHandler.HeadCheck = { _ in false }
        ) async throws {
            let state = self.state
            let responder: GatewayHTTPHandler.Responder = { request, _, _ in
                let path = request.uri.path
                state.dispatched.withLock { $0.append(path) }
                if path.hasPrefix("/slow") {
                    await withCheckedContinuation { gate in state.gates.withLock { $0[path] = gate } }
                }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok:\(path)")))
            }
            let channel = self.channel
            let recorder = self.recorder
            try await channel.eventLoop.submit {
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHandler(recorder)
                let handler = GatewayHTTPHandler(
                    responder: responder,
                    maxBodyBytes: { maxBody },
                    limits: limits,
                    refusesBeforeBody: refusesBeforeBody
                )
                try GatewayHTTPChannel.addHandlers(serving: handler, to: pipeline)
            }.get()
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).get()
        }

        /// Sends `text` from the client.
        func send(_ text: String) async throws {
            try await channel.writeInbound(ByteBuffer(string: text))
        }

        /// Everything the handler wrote so far.
        func written() async throws -> String {
            while let part = try await channel.readOutbound(as: IOData.self) {
                guard case .byteBuffer(let buffer) = part else { continue }
                output.withLock { $0 += buffer.readableBytesView }
            }
            return String(decoding: output.withLock { $0 }, as: UTF8.self)
        }

        /// What the handler wrote, once it satisfies `condition`; polls for up to 10 s.
        func written(until condition: (String) -> Bool) async throws -> String {
            for _ in 0..<1000 {
                let text = try await written()
                if condition(text) { return text }
                try await Task.sleep(for: .milliseconds(10))
            }
            return try await written()
        }

        /// Whether the channel closed, waiting up to 10 s for it.
        func waitForClose() async throws -> Bool {
            for _ in 0..<1000 where channel.isActive {
                await channel.testingEventLoop.run()
                try await Task.sleep(for: .milliseconds(10))
            }
            return !channel.isActive
        }

        /// Lets the waiting request for `path` be answered, once it waits (up to 10 s).
        func release(_ path: String) async throws {
            for _ in 0..<1000 where state.gates.withLock({ $0[path] == nil }) { try await Task.sleep(for: .milliseconds(10)) }
            state.gates.withLock { $0.removeValue(forKey: path) }?.resume()
        }

        /// Fires `event` into the pipeline, as the server (a shutdown) or the socket (the client's close) does.
        func fire(_ event: any Sendable) async throws {
            let channel = self.channel
            try await channel.eventLoop.submit { channel.pipeline.fireUserInboundEventTriggered(event) }.get()
        }

        /// The channel asks for more bytes, as a socket channel does after each read.
        func askToRead() async throws {
            let channel = self.channel
            try await channel.eventLoop.submit { channel.read() }.get()
        }
    }

    private static func get(_ path: String, _ extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\n\(extra)\r\n"
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndReadsWaitUntilTheyAreServed() async throws {
        let connection = try await Connection()
        try await connection.send(Self.get("/slowA") + Self.get("/b") + Self.get("/c"))
        try await connection.release("/slowA")
        let text = try await connection.written { $0.hasSuffix("ok:/c") }
        #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
        #expect(connection.dispatched == ["/slowA", "/b", "/c"])
        #expect(text.range(of: "ok:/slowA")!.lowerBound < text.range(of: "ok:/b")!.lowerBound)
    }

    @Test func aReadAskedForWhileRequestsWaitIsIssuedOnceTheyAreServed() async throws {
        let connection = try await Connection()
        try await connection.send(Self.get("/slowA") + Self.get("/b"))
        for _ in 0..<1000 where connection.dispatched.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        try await connection.askToRead()
        // /b waits behind /slowA: the read waits with it, so the client cannot queue more.
        #expect(connection.recorder.reads == 0)
        try await connection.release("/slowA")
        _ = try await connection.written { $0.hasSuffix("ok:/b") }
        #expect(connection.recorder.reads == 1)
        // Nothing waits now: a read goes straight through.
        try await connection.askToRead()
        #expect(connection.recorder.reads == 2)
    }

    @Test func bytesThatAreNotHTTPGet400AndTheConnectionCloses() async throws {
        let connection = try await Connection()
        try await connection.send("NOT HTTP AT ALL\r\n\r\n")
        #expect(try await connection.waitForClose())
        let text = try await connection.written()
        #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 400 Bad Request"])
        #expect(text.contains("invalid_http"))
        #expect(text.contains("connection: close\r\n"))
        #expect(connection.dispatched.isEmpty)
    }

    @Test func aHeadWithoutHostGets400AndTheConnectionCloses() async throws {
        let connection = try await Connection()
        try await connection.send("GET /a HTTP/1.1\r\n\r\n" + Self.get("/b"))
        #expect(try await connection.waitForClose())
        let text = try await connection.written()
        #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 400 Bad Request"])
        #expect(connection.dispatched.isEmpty)
    }

    @Test func continueIsSentBeforeABodyThatWillBeRead() async throws {
        let connection = try await Connection()
        try await connection.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        #expect(try await connection.written() == "HTTP/1.1 100 Continue\r\n\r\n")
        try await connection.send("abcde")
        let text = try await connection.written { $0.hasSuffix("ok:/p") }
        #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"])
    }

    @Test func anEarlyAnswerToAClientWaitingFor100ContinueClosesWithoutAContinue() async throws {
        let connection = try await Connection(maxBody: 10)
        try await connection.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        let text = try await connection.written { $0.hasSuffix("ok:/p") }
        #expect(!text.contains("100 Continue"))
        #expect(text.contains("connection: close\r\n"))
        // Its body may never come: the sending side closes, and the rest is read until it ends.
        for _ in 0..<1000 where connection.recorder.closes.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(connection.recorder.closes == [.output])
    }

    @Test func aRequestRefusedFromItsHeadIsAnsweredThenOnlyTheSendingSideCloses() async throws {
        let connection = try await Connection(refusesBeforeBody: { _ in true })
        try await connection.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        let text = try await connection.written { $0.hasSuffix("ok:/p") }
        #expect(text.contains("connection: close\r\n"))
        for _ in 0..<1000 where connection.recorder.closes.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        // Only the sending side closes at first (an in-memory channel closes whole, so the
        // recorder, not the channel, shows which): the client is not reset mid-upload.
        #expect(connection.recorder.closes == [.output])
    }

    @Test func aShutdownWithNoAnswerInFlightClosesAtOnce() async throws {
        let connection = try await Connection()
        try await connection.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        try await connection.fire(ChannelShouldQuiesceEvent())
        #expect(try await connection.waitForClose())
        #expect(try await connection.written().isEmpty)
        #expect(connection.dispatched.isEmpty)
    }

    @Test(arguments: ["quiesce", "inputClosed"])
    func anAnswerInFlightFinishesWithCloseThenTheConnectionCloses(_ cause: String) async throws {
        let connection = try await Connection()
        try await connection.send(Self.get("/slowA") + Self.get("/b"))
        for _ in 0..<1000 where connection.dispatched.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        if cause == "quiesce" {
            try await connection.fire(ChannelShouldQuiesceEvent())
        } else {
            try await connection.fire(ChannelEvent.inputClosed)
        }
        #expect(connection.channel.isActive)
        try await connection.release("/slowA")
        #expect(try await connection.waitForClose())
        let text = try await connection.written()
        #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 200 OK"])
        #expect(text.contains("connection: close\r\n"))
        #expect(connection.dispatched == ["/slowA"])
    }

    @Test func halfAHeadGets408WhenItsLimitRunsOut() async throws {
        let limits = ClientDeadlineStateMachine.Limits(head: .milliseconds(50), body: .seconds(10), idle: .seconds(10))
        let connection = try await Connection(limits: limits)
        try await connection.send("GET /a HTTP/1.1\r\nHo")
        // The limit is kept by the clock; the checks run on the channel's (virtual) time.
        try await Task.sleep(for: .milliseconds(100))
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(1))
        #expect(try await connection.waitForClose())
        #expect(Fixtures.statusLines(in: try await connection.written()) == ["HTTP/1.1 408 Request Timeout"])
    }

    @Test func anAnswerToHEADHasItsHeadOnly() async throws {
        let connection = try await Connection()
        try await connection.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n" + Self.get("/next"))
        let text = try await connection.written { $0.hasSuffix("ok:/next") }
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 3)
        #expect(parts[0].contains("Content-Length: 5"))
        #expect(parts[1].hasPrefix("HTTP/1.1 200 OK"))
        #expect(connection.dispatched == ["/h", "/next"])
    }
}
