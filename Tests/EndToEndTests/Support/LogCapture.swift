import Logging
import Synchronization

@testable import MultiProdigyPrivacy
@testable import MultiProdigyServer

/// Collects the lines a gateway logs through ``GatewayLogHandler``, secrets masking included,
/// so that a test can read what an operator's terminal would show.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])
    /// Every secret the gateway under test learns; give it to the gateway too.
    let secrets = KnownSecrets()

    /// Everything logged so far.
    var text: String { lines.withLock { $0.joined() } }

    /// A logger at `level` whose lines land here.
    func logger(level: Logger.Level = .trace) -> Logger {
        Logger(label: "gateway-under-test") { [secrets] label in
            GatewayLogHandler(label: label, level: level, secrets: secrets) { line in self.append(line) }
        }
    }

    private func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }
}
