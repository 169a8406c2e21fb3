import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

@testable import MultiProdigyServer
@testable import MultiProdigyCore

/// The HTTP/1 connection's rules as a table: literal sequences of events, each with the action the
/// handler must carry out. Every event happens at the connection's opening time unless it says
/// otherwise; the limits are 10 s for a head, 60 s for a body, 30 s idle.
@Suite struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine
    typealias Action = HTTPConnectionStateMachine.Action
    typealias WriteAction = HTTPConnectionStateMachine.WriteAction

    static let limits = ClientDeadlineStateMachine.Limits(head: .seconds(10), body: .seconds(60), idle: .seconds(30))
    static let opened = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static let receivedAt = ContinuousClock.now

    static func at(_ seconds: Int64) -> NIODeadline { opened + .seconds(seconds) }

    // MARK: Fixtures

    static func head(
        _ method: HTTPMethod = .GET,
        _ uri: String,
        _ version: HTTPVersion = .http1_1,
        _ fields: [(String, String)] = []
    ) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders([("Host", "x")] + fields))
    }

    static func parsed(_ path: String) -> Machine.ParsedHead {
        Machine.ParsedHead(request: HTTPRequest(method: .get, scheme: nil, authority: "x", path: path), receivedAt: receivedAt)
    }

    static func accepted(_ path: String, limit: Int = 100, declared: Int? = nil, continue expects: Bool = false) -> Machine.HeadVerdict {
        .accepted(parsed(path), bodyLimit: limit, declaredLength: declared, expectsContinue: expects)
    }

    static let getA = head(.GET, "/a")
    static let getB = head(.GET, "/b")
    static let ok = HTTPResponse(status: .ok, headerFields: [.contentLength: "2"])
    static let streamed = HTTPResponse(status: .ok)
    static let badRequest = GatewayError(status: .badRequest, message: "no Host", type: "invalid_request_error", code: "invalid_http")
    static let empty = ByteBuffer()

    static func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    // MARK: Events and outcomes

    /// One event, applied to a machine.
    enum Event: Sendable, CustomStringConvertible {
        /// The decoder made a request part.
        case part(HTTPServerRequestPart)
        /// The handler's verdict on the head it was given.
        case verdict(Machine.HeadVerdict)
        /// One step of serving the parts that waited.
        case servePipelined
        /// The channel asks for bytes.
        case read
        /// A part of the answer in flight is written.
        case write(ResponsePart)
        /// The task of answer n ended.
        case taskEnded(UInt64)
        /// Bytes came, before the decoder made a part of them.
        case bytes
        /// The periodic deadline check, this many seconds after opening.
        case check(Int64)
        case inputClosed, quiesce, error(Machine.ConnectionError), inactive

        var description: String {
            switch self {
            case .part(.head(let head)): "head \(head.method) \(head.uri)"
            case .part(.body(let body)): "body \(body.readableBytes) bytes"
            case .part(.end): "end"
            case .verdict(let verdict): "verdict \(verdict)"
            case .servePipelined: "servePipelined"
            case .read: "read"
            case .write(.head(let head, _)): "write head \(head.status.code)"
            case .write(.body(let body)): "write body \(body.readableBytes) bytes"
            case .write(.end): "write end"
            case .taskEnded(let number): "task \(number) ended"
            case .bytes: "bytes"
            case .check(let seconds): "check@\(seconds)"
            case .inputClosed: "inputClosed"
            case .quiesce: "quiesce"
            case .error(let error): "error \(error)"
            case .inactive: "inactive"
            }
        }

        func apply(to machine: inout Machine) -> Outcome {
            let now = HTTPConnectionStateMachineTests.opened
            switch self {
            case .part(let part): return .action(machine.channelRead(part, at: now))
            case .verdict(let verdict): return .action(machine.headVerified(verdict, at: now))
            case .servePipelined: return machine.servePipelined(at: now).map(Outcome.action) ?? .nothing
            case .read: return .action(machine.read())
            case .write(let part): return .write(machine.write(part, at: now))
            case .taskEnded(let number): return .action(machine.answerTaskEnded(number))
            case .bytes:
                machine.bytesArrived(at: now)
                return .nothing
            case .check(let seconds): return .action(machine.deadlineCheck(at: HTTPConnectionStateMachineTests.at(seconds)))
            case .inputClosed: return .action(machine.inputClosed())
            case .quiesce: return .action(machine.shouldQuiesce())
            case .error(let error): return .action(machine.errorCaught(error))
            case .inactive:
                machine.channelInactive()
                return .nothing
            }
        }
    }

    /// What an event returned.
    enum Outcome: Equatable, Sendable {
        case action(Action)
        case write(WriteAction)
        /// No action (an event that returns none, or nothing left to serve).
        case nothing
    }

    /// An event and what it must return.
    struct Step: Sendable {
        var event: Event
        var outcome: Outcome
        init(_ event: Event, _ action: Action) { (self.event, self.outcome) = (event, .action(action)) }
        init(_ event: Event, _ write: WriteAction) { (self.event, self.outcome) = (event, .write(write)) }
        init(_ event: Event, _ outcome: Outcome) { (self.event, self.outcome) = (event, outcome) }
    }

    /// A named sequence of steps from a new connection.
    struct Row: Sendable, CustomStringConvertible {
        var name: String
        var steps: [Step]
        var description: String { name }
    }

    // MARK: Step shorthands

    /// A GET received and verified, to answer `number`.
    static func get(_ head: HTTPRequestHead, _ path: String, answer number: UInt64) -> [Step] {
        [
            Step(.part(.head(head)), .verifyHead(head)),
            Step(.verdict(accepted(path)), .wait),
            Step(.part(.end(nil)), .answer(number: number, .route(parsed(path), body: .whole(empty)))),
        ]
    }

    /// A 2-byte answer written whole, its head with `connection`, then `then`.
    static func answerWritten(connection: String? = nil, then: Machine.AfterAnswer) -> [Step] {
        [
            Step(.write(.head(ok, bodyLength: 2)), .writeHead(ok, version: .http1_1, connection: connection, framing: .sized)),
            Step(.write(.body(bytes("ok"))), .writeBody(bytes("ok"), chunked: false)),
            Step(.write(.end(nil)), .writeEnd(nil, chunked: false, then: then)),
        ]
    }

    /// The steps of `parts`, one after another.
    static func chain(_ parts: [Step]...) -> [Step] { parts.flatMap { $0 } }

    // MARK: The table

    static let rows: [Row] = [
        Row(
            name: "a GET is verified, answered, and its task's end after the answer changes nothing",
            steps: chain(
                get(getA, "/a", answer: 1),
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .nothing),
                    Step(.taskEnded(1), .wait),
                    Step(.read, .read),
                ]
            )
        ),
        Row(
            name: "a body is buffered whole and routed at its end",
            steps: [
                Step(
                    .part(.head(head(.POST, "/p", .http1_1, [("Content-Length", "5")]))),
                    .verifyHead(head(.POST, "/p", .http1_1, [("Content-Length", "5")]))
                ),
                Step(.verdict(accepted("/p", declared: 5)), .wait),
                Step(.part(.body(bytes("ab"))), .wait),
                Step(.part(.body(bytes("cde"))), .wait),
                Step(.part(.end(nil)), .answer(number: 1, .route(parsed("/p"), body: .whole(bytes("abcde"))))),
            ]
        ),
        Row(
            name: "pipelined requests wait in order behind the answer, reads are held, then each is served in turn",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(.part(.head(getB)), .wait),
                    Step(.part(.end(nil)), .wait),
                    Step(.part(.head(head(.GET, "/c"))), .wait),
                    Step(.read, .wait),
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .verifyHead(getB)),
                    Step(.verdict(accepted("/b")), .wait),
                    Step(.servePipelined, .answer(number: 2, .route(parsed("/b"), body: .whole(empty)))),
                    // /c waits behind /b's answer; the held read waits with it.
                    Step(.servePipelined, .nothing),
                    Step(.read, .wait),
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .verifyHead(head(.GET, "/c"))),
                    Step(.verdict(accepted("/c")), .wait),
                    Step(.servePipelined, .read),
                    Step(.servePipelined, .nothing),
                    Step(.part(.end(nil)), .answer(number: 3, .route(parsed("/c"), body: .whole(empty)))),
                ]
            )
        ),
        Row(
            name: "a declared body over the limit is answered at once and dropped; the connection stays usable",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(
                        .verdict(accepted("/p", limit: 100, declared: 500)),
                        .answer(number: 1, .route(parsed("/p"), body: .overLimit(limit: 100)))
                    ),
                    // The rest of its own body is read (to be dropped), not queued.
                    Step(.part(.body(bytes("xxxx"))), .wait),
                    Step(.read, .read),
                    Step(.part(.end(nil)), .wait),
                    Step(.part(.head(getB)), .wait),
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .verifyHead(getB))
                ]
            )
        ),
        Row(
            name: "a body that grows over the limit is answered at its first byte too many",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(.verdict(accepted("/p", limit: 4)), .wait),
                    Step(.part(.body(bytes("abc"))), .wait),
                    Step(.part(.body(bytes("de"))), .answer(number: 1, .route(parsed("/p"), body: .overLimit(limit: 4)))),
                    Step(.part(.body(bytes("fgh"))), .wait),
                    Step(.part(.end(nil)), .wait),
                ],
                answerWritten(then: .servePipelined)
            )
        ),
        Row(
            name: "a body that ends after its answer, with nothing waiting, lets the next request in",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(
                        .verdict(accepted("/p", limit: 10, declared: 50)),
                        .answer(number: 1, .route(parsed("/p"), body: .overLimit(limit: 10)))
                    ),
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .nothing),
                    Step(.part(.body(bytes("x"))), .wait),
                    Step(.part(.end(nil)), .servePipelined),
                    Step(.servePipelined, .nothing),
                ],
                get(getB, "/b", answer: 2)
            )
        ),
        Row(
            name: "100 Continue is sent when the body will be read",
            steps: [
                Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                Step(.verdict(accepted("/p", declared: 5, continue: true)), .sendContinue),
                Step(.part(.body(bytes("abcde"))), .wait),
                Step(.part(.end(nil)), .answer(number: 1, .route(parsed("/p"), body: .whole(bytes("abcde"))))),
            ]
        ),
        Row(
            name: "an early 413 to a client waiting for 100 Continue closes, lingering until the body limit",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(
                        .verdict(accepted("/p", limit: 100, declared: 500, continue: true)),
                        .answer(number: 1, .route(parsed("/p"), body: .overLimit(limit: 100)))
                    ),
                ],
                answerWritten(connection: "close", then: .lingerWhenWritten(readNow: false)),
                [
                    Step(.read, .read),
                    Step(.part(.head(getB)), .wait),
                    Step(.check(59), .wait),
                    Step(.check(60), .close),
                ]
            )
        ),
        Row(
            name: "a request refused from its head is answered at once; the connection lingers until its body ends",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(.verdict(.refusedBeforeBody(parsed("/p"))), .answer(number: 1, .route(parsed("/p"), body: .whole(empty)))),
                    Step(.part(.body(bytes("upload"))), .wait),
                    Step(.read, .read),
                ],
                answerWritten(connection: "close", then: .lingerWhenWritten(readNow: false)),
                [
                    Step(.servePipelined, .nothing),
                    Step(.part(.body(bytes("more"))), .wait),
                    Step(.read, .read),
                    Step(.check(30), .wait),
                    Step(.part(.end(nil)), .close),
                    // Lingering: reads go on until the close completes.
                    Step(.read, .read),
                ]
            )
        ),
        Row(
            name: "a refused request whose body ended before its answer closes when the answer has gone",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(.verdict(.refusedBeforeBody(parsed("/p"))), .answer(number: 1, .route(parsed("/p"), body: .whole(empty)))),
                    Step(.part(.body(bytes("upload"))), .wait),
                    Step(.part(.end(nil)), .wait),
                    Step(.part(.head(getB)), .wait),
                ],
                answerWritten(connection: "close", then: .closeWhenWritten),
                [
                    Step(.servePipelined, .nothing),
                    Step(.part(.end(nil)), .wait),
                ]
            )
        ),
        Row(
            name: "a head that is not one the gateway serves is answered with its error, and the connection closes",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(.verdict(.invalid(badRequest)), .answer(number: 1, .refusal(badRequest))),
                    Step(.part(.body(bytes("x"))), .wait),
                    Step(.part(.end(nil)), .wait),
                ],
                answerWritten(connection: "close", then: .closeWhenWritten)
            )
        ),
        Row(
            name: "half a head gets 408 at the head limit, then the connection closes",
            steps: chain(
                [
                    Step(.bytes, .nothing),
                    Step(.check(9), .wait),
                    Step(.check(10), .refuse(.requestTimeout)),
                    Step(.check(11), .wait),
                ],
                answerWritten(connection: "close", then: .closeWhenWritten),
                [
                    Step(.check(100), .wait),
                    Step(.part(.head(getA)), .wait),
                ]
            )
        ),
        Row(
            name: "half a body gets 408 at the body limit; what waited is dropped",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(.verdict(accepted("/p", declared: 10)), .wait),
                    Step(.part(.body(bytes("abc"))), .wait),
                    Step(.check(59), .wait),
                    Step(.check(60), .refuse(.requestTimeout)),
                ],
                answerWritten(connection: "close", then: .closeWhenWritten)
            )
        ),
        Row(
            name: "an idle connection closes quietly at the idle limit; nothing is read or served after",
            steps: [
                Step(.check(29), .wait),
                Step(.check(30), .close),
                Step(.part(.head(getA)), .wait),
                Step(.read, .wait),
                Step(.servePipelined, .nothing),
                Step(.check(100), .wait),
                Step(.inputClosed, .close),
            ]
        ),
        Row(
            name: "no limit applies while an answer is in flight",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(.check(10_000), .wait)
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.check(29), .wait),
                    Step(.check(30), .close),
                ]
            )
        ),
        Row(
            name: "a shutdown with no answer in flight closes at once, even mid-body",
            steps: [
                Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                Step(.verdict(accepted("/p", declared: 10)), .wait),
                Step(.part(.body(bytes("abc"))), .wait),
                Step(.quiesce, .close),
                Step(.part(.body(bytes("defg"))), .wait),
                Step(.part(.end(nil)), .wait),
            ]
        ),
        Row(
            name: "a shutdown with an answer in flight lets it finish, says close, and drops what waited",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(.part(.head(getB)), .wait),
                    Step(.quiesce, .wait),
                ],
                answerWritten(connection: "close", then: .closeWhenWritten),
                [
                    Step(.servePipelined, .nothing),
                    Step(.read, .wait),
                ]
            )
        ),
        Row(
            name: "a shutdown after an answered body's answer closes at once, though the body still arrives",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(
                        .verdict(accepted("/p", limit: 10, declared: 100)),
                        .answer(number: 1, .route(parsed("/p"), body: .overLimit(limit: 10)))
                    ),
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .nothing),
                    Step(.quiesce, .close),
                ]
            )
        ),
        Row(
            name: "a client that closes mid-answer gets the answer with close; what it pipelined is dropped",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(.part(.head(getB)), .wait),
                    Step(.part(.end(nil)), .wait),
                    Step(.inputClosed, .wait),
                ],
                answerWritten(connection: "close", then: .closeWhenWritten),
                [
                    Step(.servePipelined, .nothing)
                ]
            )
        ),
        Row(
            name: "a client that closes between requests is closed",
            steps: chain(
                get(getA, "/a", answer: 1),
                answerWritten(then: .servePipelined),
                [
                    Step(.inputClosed, .close)
                ]
            )
        ),
        Row(
            name: "an answer whose task ends before its end closes the connection at once",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(
                        .write(.head(streamed, bodyLength: nil)),
                        .writeHead(streamed, version: .http1_1, connection: nil, framing: .chunked)
                    ),
                    Step(.write(.body(bytes("par"))), .writeBody(bytes("par"), chunked: true)),
                    Step(.taskEnded(2), .wait),
                    Step(.taskEnded(1), .closeNow),
                ]
            )
        ),
        Row(
            name: "bytes that are not HTTP between requests get 400, then the connection closes",
            steps: chain(
                [
                    Step(.error(.notHTTP(reason: "bad method")), .refuse(.notHTTP(reason: "bad method")))
                ],
                answerWritten(connection: "close", then: .closeWhenWritten),
                [
                    Step(.error(.notHTTP(reason: "again")), .wait)
                ]
            )
        ),
        Row(
            name: "bytes that are not HTTP behind an answer let it finish, then close; what waited is dropped",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(.part(.head(getB)), .wait),
                    Step(.error(.notHTTP(reason: "bad")), .wait),
                ],
                answerWritten(connection: "close", then: .closeWhenWritten),
                [
                    Step(.servePipelined, .nothing)
                ]
            )
        ),
        Row(
            name: "bytes that are not HTTP in the rest of an answered body close without a second answer",
            steps: chain(
                [
                    Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                    Step(
                        .verdict(accepted("/p", limit: 10, declared: 100)),
                        .answer(number: 1, .route(parsed("/p"), body: .overLimit(limit: 10)))
                    ),
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .nothing),
                    Step(.error(.notHTTP(reason: "bad chunk")), .close),
                ]
            )
        ),
        Row(
            name: "any other error closes the connection",
            steps: [
                Step(.error(.other), .close),
                Step(.error(.other), .wait),
                Step(.read, .wait),
            ]
        ),
        Row(
            name: "a head while a body is arriving closes the connection",
            steps: [
                Step(.part(.head(head(.POST, "/p"))), .verifyHead(head(.POST, "/p"))),
                Step(.verdict(accepted("/p", declared: 10)), .wait),
                Step(.part(.head(getB)), .close),
            ]
        ),
        Row(
            name: "stray body parts and ends between requests are ignored",
            steps: chain(
                [
                    Step(.part(.body(bytes("x"))), .wait),
                    Step(.part(.end(nil)), .wait),
                ],
                get(getA, "/a", answer: 1)
            )
        ),
        Row(
            name: "an answer part with no answer in flight fails",
            steps: [
                Step(.write(.head(ok, bodyLength: 2)), .fail),
                Step(.write(.body(bytes("ok"))), .fail),
                Step(.write(.end(nil)), .fail),
            ]
        ),
        Row(
            name: "an answer to HEAD carries its head only",
            steps: [
                Step(.part(.head(head(.HEAD, "/h"))), .verifyHead(head(.HEAD, "/h"))),
                Step(.verdict(accepted("/h")), .wait),
                Step(.part(.end(nil)), .answer(number: 1, .route(parsed("/h"), body: .whole(empty)))),
                Step(.write(.head(streamed, bodyLength: nil)), .writeHead(streamed, version: .http1_1, connection: nil, framing: .sized)),
                Step(.write(.body(bytes("ok"))), .skip),
                Step(.write(.end(nil)), .writeEnd(nil, chunked: false, then: .servePipelined)),
            ]
        ),
        Row(
            name: "a streamed answer is chunked, with trailers at its end; an empty part is skipped",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(
                        .write(.head(streamed, bodyLength: nil)),
                        .writeHead(streamed, version: .http1_1, connection: nil, framing: .chunked)
                    ),
                    Step(.write(.body(empty)), .skip),
                    Step(.write(.body(bytes("data"))), .writeBody(bytes("data"), chunked: true)),
                    Step(.write(.end([.contentType: "x"])), .writeEnd([.contentType: "x"], chunked: true, then: .servePipelined)),
                ]
            )
        ),
        Row(
            name: "a request that says Connection: close gets close and is the last",
            steps: chain(
                get(head(.GET, "/a", .http1_1, [("Connection", "close")]), "/a", answer: 1),
                answerWritten(connection: "close", then: .closeWhenWritten)
            )
        ),
        Row(
            name: "an HTTP/1.0 client that asks for keep-alive keeps its connection",
            steps: chain(
                get(head(.GET, "/a", .http1_0, [("Connection", "keep-alive")]), "/a", answer: 1),
                [
                    Step(.write(.head(ok, bodyLength: 2)), .writeHead(ok, version: .http1_0, connection: "keep-alive", framing: .sized)),
                    Step(.write(.end(nil)), .writeEnd(nil, chunked: false, then: .servePipelined)),
                ]
            )
        ),
        Row(
            name: "an HTTP/1.0 client without keep-alive gets close",
            steps: chain(
                get(head(.GET, "/a", .http1_0), "/a", answer: 1),
                [
                    Step(.write(.head(ok, bodyLength: 2)), .writeHead(ok, version: .http1_0, connection: "close", framing: .sized)),
                    Step(.write(.end(nil)), .writeEnd(nil, chunked: false, then: .closeWhenWritten)),
                ]
            )
        ),
        Row(
            name: "a streamed answer to an HTTP/1.0 client ends with the connection",
            steps: chain(
                get(head(.GET, "/a", .http1_0, [("Connection", "keep-alive")]), "/a", answer: 1),
                [
                    Step(
                        .write(.head(streamed, bodyLength: nil)),
                        .writeHead(streamed, version: .http1_0, connection: "close", framing: .closeDelimited)
                    ),
                    Step(.write(.body(bytes("data"))), .writeBody(bytes("data"), chunked: false)),
                    Step(.write(.end(nil)), .writeEnd(nil, chunked: false, then: .closeWhenWritten)),
                ]
            )
        ),
        Row(
            name: "a closed channel drops what waited",
            steps: chain(
                get(getA, "/a", answer: 1),
                [
                    Step(.part(.head(getB)), .wait),
                    Step(.read, .wait),
                    Step(.inactive, .nothing),
                ],
                answerWritten(then: .servePipelined),
                [
                    Step(.servePipelined, .read),
                    Step(.servePipelined, .nothing),
                ]
            )
        ),
    ]

    @Test(arguments: rows)
    func eachEventReturnsItsAction(_ row: Row) {
        var machine = Machine(limits: Self.limits, openedAt: Self.opened)
        for (index, step) in row.steps.enumerated() {
            let outcome = step.event.apply(to: &machine)
            #expect(outcome == step.outcome, "step \(index + 1): \(step.event)")
        }
    }

    /// Once the connection is closing (and not lingering over a body), nothing more is read,
    /// served or answered, whatever arrives: checked after every step of every row that got there.
    @Test(arguments: rows)
    func aClosingConnectionServesNothingMore(_ row: Row) {
        var machine = Machine(limits: Self.limits, openedAt: Self.opened)
        var lingering = false
        for step in row.steps {
            if case .write(.writeEnd(_, _, .lingerWhenWritten)) = step.outcome { lingering = true }
            _ = step.event.apply(to: &machine)
            guard machine.isClosing, !lingering else { continue }
            for probe: Event in [.part(.head(Self.getA)), .part(.body(Self.bytes("x"))), .part(.end(nil)), .read, .servePipelined] {
                var copy = machine
                let outcome = probe.apply(to: &copy)
                #expect(outcome == .action(.wait) || outcome == .nothing, "\(probe) after \(row.name)")
                #expect(copy.waitingParts == 0)
            }
        }
    }
}
