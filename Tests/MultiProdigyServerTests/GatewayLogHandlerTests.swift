import Foundation
import Logging
import Synchronization
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyConfig
@testable import MultiProdigyPrivacy
@testable import MultiProdigyServer

/// ``GatewayLogHandler`` in JSON: one object per line, fields typed, secrets masked.
@Suite struct GatewayLogHandlerTests {
    /// The lines a logger with a JSON handler writes for `log`.
    private static func lines(secrets: KnownSecrets = KnownSecrets(), _ log: (Logger) -> Void) -> [String] {
        let written = Mutex<[String]>([])
        let logger = Logger(label: "multiprodigy.test") { label in
            GatewayLogHandler(label: label, level: .info, format: .json, secrets: secrets) { line in written.withLock { $0.append(line) } }
        }
        log(logger)
        return written.withLock { $0 }
    }

    @Test func aMessageIsOneJSONObjectWithTypedFields() throws {
        let written = Self.lines { logger in
            logger.notice(
                "request \"quoted\"\nnext",
                metadata: [
                    "status": .stringConvertible(200), "latency_ms": .stringConvertible(1.5), "estimated": .stringConvertible(false),
                    "route": .string("r"), "targets": .array([.string("a/x"), .string("b/y")]),
                    "nested": .dictionary(["k": .stringConvertible(3)]), "plain": .stringConvertible(Duration.seconds(1)),
                ]
            )
            logger.debug("filtered out")
        }
        try #require(written.count == 1)
        #expect(written[0].hasSuffix("}\n"))
        #expect(written[0].dropLast().contains("\n") == false, "one line, the message's newline escaped")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "notice")
        #expect(object["logger"] as? String == "multiprodigy.test")
        #expect(object["message"] as? String == "request \"quoted\"\nnext")
        #expect(object["status"] as? Int == 200)
        #expect(object["latency_ms"] as? Double == 1.5)
        #expect(object["estimated"] as? Bool == false)
        #expect(object["route"] as? String == "r")
        #expect(object["targets"] as? [String] == ["a/x", "b/y"])
        #expect((object["nested"] as? [String: Any])?["k"] as? Int == 3)
        #expect(object["plain"] as? String == "1.0 seconds")
        #expect(object["time"] is String)
        #expect(written[0].hasPrefix(#"{"time":"#), "the fixed members come first")
    }

    @Test func secretsAreMaskedAndTheLineStaysJSON() throws {
        let known = KnownSecrets()
        var config = GatewayConfig()
        config.auth.masterKey = "master-canary-1"
        known.learn(from: config)
        let written = Self.lines(secrets: known) { logger in
            logger.info("saw master-canary-1", metadata: ["header": .string("Bearer 9f8e7d6c5b4a39281706aBcD")])
        }
        let line = try #require(written.first)
        #expect(!line.contains("canary") && !line.contains("9f8e7d"))
        #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
    }

    @Test func keysAfterAnEscapeOrInAnUnendedBlockAreMaskedAndTheLineStaysOneObject() throws {
        let written = Self.lines { logger in
            logger.info(
                "upstream said:\nsk-proj-abcdefghijklmnopqrstuvwxyz0123456789\tBearer 9f8e7d6c5b4a39281706aBcD",
                metadata: ["body": .string("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\"IBAAK")]
            )
        }
        let line = try #require(written.first)
        #expect(written.count == 1 && line.filter { $0 == "\n" }.count == 1, "one line")
        #expect(!line.contains("sk-proj-abc") && !line.contains("9f8e7d") && !line.contains("MIIEow"), "\(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect((object["message"] as? String)?.hasPrefix("upstream said:\n") == true)
    }

    @Test func accessLinesAreWrittenWhateverTheLogLevel() throws {
        let written = Mutex<[String]>([])
        let logger = Logger(label: "multiprodigy.access") { label in
            GatewayLogHandler(label: label, level: .warning, format: .json) { line in written.withLock { $0.append(line) } }
        }
        let outcome = RequestOutcome(requestID: "req_1", route: nil, target: nil, status: 401, duration: .milliseconds(2), keyName: "none")
        AccessLog(logger: logger).writeRefusal(outcome)
        logger.notice("an ordinary notice")
        let lines = written.withLock { $0 }
        #expect(lines.count == 1, "the access line, and not the filtered notice")
        let object = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        #expect(object["status"] as? Int == 401)
        #expect(object["request_id"] as? String == "req_1")
    }
}
