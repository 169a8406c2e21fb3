import NIOCore
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyServer

/// The front door's time limits as a table: every event in every phase, and what runs out when.
@Suite struct ClientDeadlineStateMachineTests {
    static let limits = ClientDeadlineStateMachine.Limits(head: .seconds(10), body: .seconds(60), idle: .seconds(30))
    static let opened = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func at(_ seconds: Int64) -> NIODeadline { opened + .seconds(seconds) }

    typealias Phase = ClientDeadlineStateMachine.Phase

    /// One event, applied to a machine.
    enum Event: CustomStringConvertible {
        case bytes(Int64), head(Int64), bodyEnd(Int64), answerStart, answerEnd(Int64)

        func apply(to machine: inout ClientDeadlineStateMachine) {
            switch self {
            case .bytes(let t): machine.bytesArrived(at: ClientDeadlineStateMachineTests.at(t))
            case .head(let t): machine.headArrived(at: ClientDeadlineStateMachineTests.at(t))
            case .bodyEnd(let t): machine.bodyEnded(at: ClientDeadlineStateMachineTests.at(t))
            case .answerStart: machine.answerStarted()
            case .answerEnd(let t): machine.answerEnded(at: ClientDeadlineStateMachineTests.at(t))
            }
        }

        var description: String {
            switch self {
            case .bytes(let t): "bytes@\(t)"
            case .head(let t): "head@\(t)"
            case .bodyEnd(let t): "bodyEnd@\(t)"
            case .answerStart: "answerStart"
            case .answerEnd(let t): "answerEnd@\(t)"
            }
        }
    }

    /// A sequence of events, then the phase, whether an answer is in flight, the deadline (seconds
    /// after opening; nil: none) and what its expiry asks for.
    struct Row: CustomStringConvertible, Sendable {
        var events: [Event]
        var phase: Phase
        var answering: Bool
        var deadline: Int64?
        var expiry: ClientDeadlineStateMachine.Expiry?
        var description: String { events.map(\.description).joined(separator: ", ") }
    }

    static let rows: [Row] = [
        // A new connection waits for its first request under the idle limit.
        Row(events: [], phase: .idle(since: at(0)), answering: false, deadline: 30, expiry: .closeQuietly),
        // The first bytes of a head start the (shorter) head limit.
        Row(events: [.bytes(5)], phase: .head(since: at(5)), answering: false, deadline: 15, expiry: .requestTimeout),
        // More bytes of the same head do not extend it.
        Row(events: [.bytes(5), .bytes(9)], phase: .head(since: at(5)), answering: false, deadline: 15, expiry: .requestTimeout),
        // A complete head starts the body limit.
        Row(events: [.bytes(5), .head(7)], phase: .body(headEnded: at(7)), answering: false, deadline: 67, expiry: .requestTimeout),
        // A complete request has no limit while it is answered, however long.
        Row(
            events: [.bytes(5), .head(7), .bodyEnd(8), .answerStart],
            phase: .idle(since: at(8)),
            answering: true,
            deadline: nil,
            expiry: nil
        ),
        // Bytes during an answer (a pipelined request) start no limit while it is in flight...
        Row(
            events: [.bytes(5), .head(7), .bodyEnd(8), .answerStart, .bytes(9)],
            phase: .idle(since: at(8)),
            answering: true,
            deadline: nil,
            expiry: nil
        ),
        // ...and the head limit when it ends, if their head is still incomplete.
        Row(
            events: [.bytes(5), .head(7), .bodyEnd(8), .answerStart, .bytes(9), .answerEnd(100)],
            phase: .head(since: at(100)),
            answering: false,
            deadline: 110,
            expiry: .requestTimeout
        ),
        // A complete pipelined head clears them: its own answer's end starts the idle limit.
        Row(
            events: [
                .bytes(5), .head(7), .bodyEnd(8), .answerStart, .bytes(9), .answerEnd(100), .head(100), .bodyEnd(100), .answerStart,
                .answerEnd(200),
            ],
            phase: .idle(since: at(200)),
            answering: false,
            deadline: 230,
            expiry: .closeQuietly
        ),
        // After the answer, the idle limit runs from its end.
        Row(
            events: [.bytes(5), .head(7), .bodyEnd(8), .answerStart, .answerEnd(500)],
            phase: .idle(since: at(500)),
            answering: false,
            deadline: 530,
            expiry: .closeQuietly
        ),
        // The next request's head limit starts at its first bytes.
        Row(
            events: [.bytes(5), .head(7), .bodyEnd(8), .answerStart, .answerEnd(500), .bytes(520)],
            phase: .head(since: at(520)),
            answering: false,
            deadline: 530,
            expiry: .requestTimeout
        ),
        // An early answer (413, 401) turns the rest of the body into bytes to drop: no limit while
        // the answer is in flight...
        Row(
            events: [.bytes(5), .head(7), .answerStart],
            phase: .discarding(headEnded: at(7)),
            answering: true,
            deadline: nil,
            expiry: nil
        ),
        // ...then the body limit still counts from the head, and its expiry only closes.
        Row(
            events: [.bytes(5), .head(7), .answerStart, .answerEnd(8)],
            phase: .discarding(headEnded: at(7)),
            answering: false,
            deadline: 67,
            expiry: .close
        ),
        // Once the dropped body ends, the connection is idle from then.
        Row(
            events: [.bytes(5), .head(7), .answerStart, .answerEnd(8), .bodyEnd(20)],
            phase: .idle(since: at(20)),
            answering: false,
            deadline: 50,
            expiry: .closeQuietly
        ),
        // A body that ends while its early answer is still in flight: idle from the answer's end.
        Row(
            events: [.bytes(5), .head(7), .answerStart, .bodyEnd(8), .answerEnd(12)],
            phase: .idle(since: at(12)),
            answering: false,
            deadline: 42,
            expiry: .closeQuietly
        ),
        // An answer that the connection gives itself before any head (408, 400) has no limit either.
        Row(events: [.bytes(5), .answerStart], phase: .head(since: at(5)), answering: true, deadline: nil, expiry: nil),
    ]

    @Test(arguments: rows)
    func eachSequenceEndsInItsPhaseAndDeadline(_ row: Row) {
        var machine = ClientDeadlineStateMachine(limits: Self.limits, openedAt: Self.opened)
        for event in row.events { event.apply(to: &machine) }
        #expect(machine.phase == row.phase)
        #expect(machine.answering == row.answering)
        #expect(machine.deadline == row.deadline.map(Self.at))
        if let deadline = row.deadline {
            // Nothing runs out a nanosecond early; at the deadline, the row's expiry.
            #expect(machine.expiry(at: Self.at(deadline) - .nanoseconds(1)) == nil)
            #expect(machine.expiry(at: Self.at(deadline)) == row.expiry)
            #expect(machine.expiry(at: Self.at(deadline) + .seconds(3600)) == row.expiry)
        } else {
            #expect(machine.expiry(at: Self.at(1_000_000)) == nil)
        }
    }

    @Test func theCheckIntervalIsAQuarterOfTheShortestLimitWithinBounds() {
        #expect(Self.limits.checkInterval == .seconds(1))
        #expect(
            ClientDeadlineStateMachine.Limits(head: .milliseconds(400), body: .seconds(5), idle: .seconds(5)).checkInterval
                == .milliseconds(100)
        )
        #expect(
            ClientDeadlineStateMachine.Limits(head: .milliseconds(1), body: .seconds(5), idle: .seconds(5)).checkInterval
                == .milliseconds(10)
        )
        #expect(
            ClientDeadlineStateMachine.Limits(head: .seconds(60), body: .seconds(60), idle: .seconds(2)).checkInterval == .milliseconds(500)
        )
    }

    @Test func limitsComeFromTheServerSettings() {
        let settings = ServerSettings(headTimeout: .seconds(3), bodyTimeout: .milliseconds(2500), idleTimeout: .seconds(90))
        let limits = ClientDeadlineStateMachine.Limits(settings)
        #expect(limits == ClientDeadlineStateMachine.Limits(head: .seconds(3), body: .milliseconds(2500), idle: .seconds(90)))
    }
}
