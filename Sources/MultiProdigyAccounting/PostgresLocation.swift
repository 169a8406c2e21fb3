import Foundation

/// A PostgreSQL server and database, as a `storage: postgres://user:password@host:port/database` URL names it.
///
/// `postgresql://` is accepted too. The port defaults to 5432 and the user to `postgres`; the
/// database defaults to the user's name, as `psql` does. `?sslmode=` is honoured: `disable`,
/// `prefer` (the default, as libpq's) or `require` (and `verify-ca`, `verify-full`, which also
/// check the server's certificate). `host` may be a folder holding the server's Unix socket
/// (`postgres://user@%2Fvar%2Frun%2Fpostgresql/db` or `?host=/var/run/postgresql`).
///
/// The password is kept for connecting but never shown: ``description`` leaves it out, so the
/// location may be logged.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How to use TLS, from `sslmode`.
    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or fail, without checking the certificate.
        case require
        /// TLS or fail, checking the certificate against the system's roots.
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate must name the host.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address; nil with a Unix socket.
    public var host: String?
    /// The folder of the server's Unix socket, when it is reached that way.
    public var socketDirectory: String?
    /// The TCP port, or the socket's number (`.s.PGSQL.<port>`).
    public var port: Int
    /// The role to connect as.
    public var user: String
    /// The role's password; never printed.
    public var password: String?
    /// The database.
    public var database: String
    /// How to use TLS.
    public var tls: TLSMode

    /// Parses a `postgres://` or `postgresql://` URL.
    ///
    /// - Throws: ``StorageError`` naming what is wrong; its text never holds the password.
    public init(parsing text: String) throws(StorageError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let schemeEnd = trimmed.range(of: "://"),
            ["postgres", "postgresql"].contains(trimmed[..<schemeEnd.lowerBound].lowercased())
        else {
            throw StorageError(problem: "storage: not a postgres:// URL", fix: "write it as postgres://user:password@host:5432/database")
        }
        var rest = Substring(trimmed[schemeEnd.upperBound...])
        var user = "postgres"
        var password: String?
        // The user part ends at the last '@': a password may hold '@', '/', '?' or '#' when it is not
        // percent-encoded, and must never be taken for a host, a port or a parameter (and echoed).
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.decoded(credentials[..<colon], part: "user")
                password = try Self.decoded(credentials[credentials.index(after: colon)...], part: "password")
            } else {
                user = try Self.decoded(credentials, part: "user")
            }
        }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var hostText = Substring(rest)
        var port = 5432
        if hostText.hasPrefix("[") {
            // An IPv6 address: [::1]:5432.
            guard let close = hostText.firstIndex(of: "]") else {
                throw StorageError(
                    problem: "storage: the PostgreSQL host '\(hostText)' lacks its closing ']'",
                    fix: "write an IPv6 host as [::1]"
                )
            }
            let after = hostText[hostText.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst()) }
            hostText = hostText[hostText.index(after: hostText.startIndex)..<close]
        } else if let colon = hostText.lastIndex(of: ":") {
            port = try Self.port(hostText[hostText.index(after: colon)...])
            hostText = hostText[..<colon]
        }
        var host = try Self.decoded(hostText, part: "host")
        var database = try Self.decoded(path, part: "database")
        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = parts[0].lowercased()
            let value = parts.count > 1 ? try Self.decoded(parts[1], part: name) : ""
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value.lowercased()) else {
                    throw StorageError(
                        problem: "storage: sslmode '\(value)' is not one PostgreSQL knows",
                        fix: "use sslmode=disable, prefer, require, verify-ca or verify-full"
                    )
                }
                tls = mode
            case "host": host = value
            case "user": user = value
            case "password": password = value
            case "dbname": database = value
            case "port": port = try Self.port(Substring(value))
            case "application_name", "connect_timeout":
                continue
            default:
                throw StorageError(
                    problem: "storage: the PostgreSQL URL's parameter '\(name)' is not supported",
                    fix: "use sslmode, host, port, user, password or dbname"
                )
            }
        }
        if host.isEmpty { host = "localhost" }
        guard !user.isEmpty else {
            throw StorageError(
                problem: "storage: the PostgreSQL URL names no user",
                fix: "write it as postgres://user:password@host:5432/database"
            )
        }
        if host.hasPrefix("/") {
            self.host = nil
            socketDirectory = host
        } else {
            self.host = host
            socketDirectory = nil
        }
        self.port = port
        self.user = user
        self.password = password
        self.database = database.isEmpty ? user : database
        self.tls = tls
    }

    /// `postgres://user@host:port/database?sslmode=…`, without the password.
    public var description: String {
        let place = socketDirectory.map { "[socket \($0)]:\(port)" } ?? "\(host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? ""):\(port)"
        return "postgres://\(user)@\(place)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// The path of the server's Unix socket, when it is reached that way.
    var socketPath: String? {
        socketDirectory.map { "\($0)/.s.PGSQL.\(port)" }
    }

    private static func port(_ text: Substring) throws(StorageError) -> Int {
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw StorageError(
                problem: "storage: the PostgreSQL port '\(text)' is not a port number",
                fix: "use a number from 1 to 65535, such as 5432"
            )
        }
        return port
    }

    private static func decoded(_ text: Substring, part: String) throws(StorageError) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            // The text may be the password: not repeated.
            throw StorageError(
                problem: "storage: the PostgreSQL URL's \(part) has a malformed percent-encoding",
                fix: "encode reserved characters as %XX, such as %40 for '@'"
            )
        }
        return decoded
    }
}
