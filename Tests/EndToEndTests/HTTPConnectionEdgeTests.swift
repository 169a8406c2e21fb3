import NIOCore
import NIOPosix
import Synchronization
import TestFixtures
import Testing

@testable import MultiProdigyServer

/// The connection handling's edge cases, with answers held open by a scripted responder.
@Suite struct HTTPConnectionEdgeTests {
    private static func get(_ path: String, _ extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\n\(extra)\r\n"
    }

    @Test func theConnectionStopsReadingWhileRequestsWaitBehindAnAnswer() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1 << 20)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port, bufferBytes: 64 << 10)
        defer { Task { await connection.close() } }
        try await connection.send(Self.get("/slowA"))
        try await waitFor { server.isWaiting("/slowA") }
        // 2 MB of requests, more than the two sockets' buffers hold: the client's write completes
        // only if the gateway keeps reading (and queueing) while the first answer is held.
        let padding = "X-Pad: " + String(repeating: "p", count: 8000) + "\r\n"
        let sent = connection.startSending((0..<250).map { Self.get("/r\($0)", padding) }.joined())
        let allSent = Mutex(false)
        sent.whenComplete { _ in allSent.withLock { $0 = true } }
        try await Task.sleep(for: .milliseconds(300))
        let completed = allSent.withLock { $0 }
        #expect(!completed)
        #expect(server.dispatched == ["/slowA"])
        try await server.release("/slowA")
        // 251 answers: bounded by their progress, not by a total a loaded machine may overrun.
        try await connection.receive(until: { $0.hasSuffix("ok:/r249") }, stallTimeout: .seconds(10))
        #expect(server.dispatched.count == 251)
        // The last answer came, so the gateway read everything: the write has completed (or
        // failed, which `get()` reports), rather than being waited for without a bound.
        try await waitFor { allSent.withLock { $0 } }
        try #require(allSent.withLock { $0 })
        try await sent.get()
    }

    @Test func manyPipelinedRequestsAreAllAnsweredInOrderAfterAHeldOne() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1 << 20)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        try await connection.send(Self.get("/slowA"))
        try await waitFor { server.isWaiting("/slowA") }
        // Far more than one read's worth: the connection stops reading while they wait.
        try await connection.send((0..<2000).map { Self.get("/r\($0)") }.joined())
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.dispatched == ["/slowA"])
        try await server.release("/slowA")
        // 2,001 answers: bounded by their progress, not by a total a loaded machine may overrun.
        let text = try await connection.receive(until: { $0.hasSuffix("ok:/r1999") }, stallTimeout: .seconds(10))
        #expect(Fixtures.statusLines(in: text).count == 2001)
        #expect(server.dispatched == ["/slowA"] + (0..<2000).map { "/r\($0)" })
    }

    @Test func aRequestAfterAnOverLimitBodyStillInTheQueueIsServed() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 10)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        // A is held; B, over the limit, waits whole behind it.
        try await connection.send(
            Self.get("/slowA") + "POST /slowB HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n" + String(repeating: "y", count: 20)
        )
        try await server.release("/slowA")
        try await waitFor { server.isWaiting("/slowB") }
        try await connection.send(Self.get("/c"))
        try await server.release("/slowB")
        let text = try await connection.receive { $0.contains("ok:/c") }
        #expect(!connection.isClosedByPeer)
        #expect(server.dispatched == ["/slowA", "/slowB", "/c"])
        #expect(Fixtures.statusLines(in: text).count == 3)
    }

    @Test func aShutdownWhileTheRestOfAnAnsweredBodyArrivesClosesAtOnce() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 10)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        try await connection.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        try await connection.receive { $0.contains("ok:/x") }
        // The answer went; the rest of its body is owed nothing, so the drain does not wait for it.
        server.quiesceLatestConnection()
        #expect(try await connection.waitForClose())
    }

    @Test func aShutdownClosesAConnectionWhoseBodyIsHalfSentAtOnce() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1000)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        try await connection.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n123456789")
        try await waitFor { server.connectionCount == 1 }
        try await Task.sleep(for: .milliseconds(50))
        server.quiesceLatestConnection()
        #expect(try await connection.waitForClose())
        #expect(server.dispatched.isEmpty)
    }

    @Test func aShutdownClosesAConnectionWithHalfAHeadAtOnce() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1000)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        try await connection.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Le")
        try await waitFor { server.connectionCount == 1 }
        try await Task.sleep(for: .milliseconds(50))
        server.quiesceLatestConnection()
        #expect(try await connection.waitForClose())
        #expect(server.dispatched.isEmpty)
    }

    @Test func aShutdownWaitsForTheAnswerInFlightThenCloses() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1000)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        try await connection.send(Self.get("/slowA"))
        try await waitFor { server.isWaiting("/slowA") }
        server.quiesceLatestConnection()
        try await Task.sleep(for: .milliseconds(100))
        #expect(!connection.isClosedByPeer)
        try await server.release("/slowA")
        #expect(try await connection.waitForClose())
        #expect(connection.text.contains("ok:/slowA"))
        #expect(connection.text.contains("connection: close"))
    }

    @Test(arguments: [false, true])
    func nothingIsServedAfterTheAnswerThatClosesTheConnection(quiesce: Bool) async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1 << 20, bigBody: 2 << 20)
        defer { Task { await server.close() } }
        // The client does not read yet, so the last answer is still being written when it sends more.
        let connection = try await RawConnection.open(port: server.port, reading: false, bufferBytes: 64 << 10)
        defer { Task { await connection.close() } }
        if quiesce {
            try await connection.send(Self.get("/slowbig"))
            try await waitFor { server.isWaiting("/slowbig") }
            server.quiesceLatestConnection()
            try await server.release("/slowbig")
        } else {
            try await connection.send(Self.get("/big", "Connection: close\r\n"))
        }
        try await Task.sleep(for: .milliseconds(100))
        try await connection.send(Self.get("/after"))
        try await Task.sleep(for: .milliseconds(100))
        try await connection.startReading()
        #expect(try await connection.waitForClose())
        #expect(!server.dispatched.contains("/after"))
        #expect(Fixtures.statusLines(in: connection.text) == ["HTTP/1.1 200 OK"])
    }

    /// How the connection is told to close while its last answer is still queued for a client that
    /// reads slowly: a shutdown, the idle limit, the client closing its sending side.
    enum CloseCause: CaseIterable, Sendable { case quiesce, idleTimeout, inputClosed }

    @Test(arguments: CloseCause.allCases)
    func anAnswerStillQueuedForASlowReaderIsDeliveredWholeBeforeTheConnectionCloses(_ cause: CloseCause) async throws {
        // The idle limit ends at 10 s (checked every second, so by 11 s); a connection told to
        // close waits at most one more idle period for its answer to go (until 20 s at the
        // earliest), so the client reads at 12 s and has 8 s to take 2 MB: a machine busy with a
        // build beside the whole suite has taken more than 2 s.
        let limits = ClientDeadlineStateMachine.Limits(head: .seconds(10), body: .seconds(10), idle: .seconds(10))
        let server = try await ScriptedHTTPServer(maxBody: 1 << 20, bigBody: 2 << 20, limits: limits)
        defer { Task { await server.close() } }
        // The client reads nothing yet: 2 MB cannot fit in the two 64 KiB socket buffers, so most
        // of the answer is still queued in the gateway when its last part has been written.
        let connection = try await RawConnection.open(port: server.port, reading: false, bufferBytes: 64 << 10)
        defer { Task { await connection.close() } }
        try await connection.send(Self.get("/big"))
        try await waitFor { server.dispatched == ["/big"] }
        let answered = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(200))
        switch cause {
        case .quiesce: server.quiesceLatestConnection()
        case .idleTimeout: break
        case .inputClosed: try await connection.closeOutput()
        }
        try await Task.sleep(until: answered + (cause == .idleTimeout ? .seconds(12) : .milliseconds(400)), clock: .continuous)
        try await connection.startReading()
        #expect(try await connection.waitForClose())
        let text = connection.text
        #expect(Fixtures.statusLines(in: text) == ["HTTP/1.1 200 OK"])
        let body = try #require(text.range(of: "\r\n\r\n")).upperBound
        #expect(text.utf8[body...].count == 2 << 20)
    }

    @Test func bytesThatAreNotHTTPBehindAnAnswerInFlightLetItFinishThenClose() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1 << 20)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        try await connection.send(Self.get("/slowA") + "GARBAGE\r\n\r\n")
        try await server.release("/slowA")
        #expect(try await connection.waitForClose())
        #expect(connection.text.hasSuffix("ok:/slowA"))
        #expect(connection.text.contains("connection: close\r\n"))
    }

    @Test func anEarly413ToAClientWaitingFor100ContinueClosesTheConnection() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 10)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        // The client may never send a body it was not asked for: nothing after is taken as one.
        try await connection.send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
        #expect(try await connection.waitForClose())
        #expect(!connection.text.contains("100 Continue"))
        #expect(connection.text.contains("connection: close\r\n"))
    }

    @Test func anAnswerToHEADHasNoBody() async throws {
        let server = try await ScriptedHTTPServer(maxBody: 1 << 20)
        defer { Task { await server.close() } }
        let connection = try await RawConnection.open(port: server.port)
        defer { Task { await connection.close() } }
        try await connection.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n" + Self.get("/next"))
        let text = try await connection.receive { $0.hasSuffix("ok:/next") }
        let heads = text.components(separatedBy: "\r\n\r\n")
        // The HEAD answer's head, then at once the next answer: no body between them.
        #expect(heads.count == 3)
        #expect(heads[0].contains("Content-Length: 5"))  // "ok:/h", not sent
        #expect(heads[1].hasPrefix("HTTP/1.1 200 OK"))
        #expect(heads[2] == "ok:/next")
    }
}
