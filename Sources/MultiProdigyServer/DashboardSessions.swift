import MultiProdigyCore
import Synchronization

/// The dashboard's login sessions: random tokens kept in this process's memory, each with its CSRF token, for
/// ``DashboardHandler``.
///
/// A session holds for ``lifetime`` after login, and only while the master key it was opened with is still the
/// gateway's: a reload that changes `auth.master_key` ends every session. At most ``maximumSessions`` live at
/// once; a login beyond that ends the oldest. Sessions survive a config reload (the store is shared by every
/// runtime), but not a restart, and each replica has its own.
final class DashboardSessions: Sendable {
    /// One login.
    struct Session: Sendable {
        /// Sent with every form and every API call that changes something.
        let csrfToken: String
        /// When it stops being accepted.
        let expiresAt: ContinuousClock.Instant
        /// The master key it was opened with.
        let masterKey: [UInt8]
    }

    /// How long a session holds after login.
    static let lifetime = Duration.seconds(12 * 3600)
    /// The most sessions kept at once.
    static let maximumSessions = 256

    /// Failed logins allowed in a burst; past it, one more each ``loginRefill``.
    static let loginBurst = 10.0
    /// How often one more failed login is allowed past the burst.
    static let loginRefill = Duration.seconds(1)

    private let sessions = Mutex<[String: Session]>([:])
    private let loginAllowance = Mutex<(tokens: Double, updatedAt: ContinuousClock.Instant)>((loginBurst, .now))

    /// Creates an empty store.
    init() {}

    /// Opens a session for a login with `masterKey`; its token (the cookie's value) and its CSRF token.
    func open(masterKey: [UInt8], now: ContinuousClock.Instant = .now) -> (token: String, csrfToken: String) {
        let token = Self.randomToken()
        let session = Session(csrfToken: Self.randomToken(), expiresAt: now + Self.lifetime, masterKey: masterKey)
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expiresAt > now }
            while sessions.count >= Self.maximumSessions, let oldest = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
                sessions[oldest.key] = nil
            }
            sessions[token] = session
        }
        return (token, session.csrfToken)
    }

    /// The live session of `token` when the gateway's master key is still `masterKey`; nil otherwise.
    func session(_ token: String, masterKey: [UInt8], now: ContinuousClock.Instant = .now) -> Session? {
        sessions.withLock { sessions in
            guard let session = sessions[token] else { return nil }
            guard session.expiresAt > now, ConstantTime.equals(session.masterKey, masterKey) else {
                sessions[token] = nil
                return nil
            }
            return session
        }
    }

    /// Whether a login may be tried now: the failed logins of every client together, as a token bucket, so the
    /// master key cannot be guessed faster than one try a second once the burst is spent (the gateway's own admin
    /// waits as long while someone guesses).
    func admitsLogin(now: ContinuousClock.Instant = .now) -> Bool {
        loginAllowance.withLock { allowance in
            let refilled = (now - allowance.updatedAt) / Self.loginRefill
            allowance = (min(Self.loginBurst, allowance.tokens + refilled), now)
            return allowance.tokens >= 1
        }
    }

    /// Counts a failed login against ``admitsLogin(now:)``.
    func loginFailed() {
        loginAllowance.withLock { $0.tokens = max(0, $0.tokens - 1) }
    }

    /// Ends the session of `token`, if there is one.
    func close(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    /// 32 random bytes as 64 hexadecimal digits.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            for shift in stride(from: 60, through: 0, by: -4) {
                text.append(digits[Int((word >> UInt64(shift)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
