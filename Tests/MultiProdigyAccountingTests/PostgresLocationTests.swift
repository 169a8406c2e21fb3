import Testing

@testable import MultiProdigyAccounting

/// `storage: postgres://…` URLs: what is read from them, what is refused, and that no text made
/// from one holds its password.
@Suite struct PostgresLocationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var url: String
        var host: String?
        var socketDirectory: String?
        var port: Int
        var user: String
        var password: String?
        var database: String
        var tls: PostgresLocation.TLSMode
        var testDescription: String { url }
    }

    @Test(arguments: [
        Case(
            url: "postgres://gw:s3cret@db.internal:5433/ledger",
            host: "db.internal",
            port: 5433,
            user: "gw",
            password: "s3cret",
            database: "ledger",
            tls: .prefer
        ),
        Case(
            url: "postgresql://gw@127.0.0.1/ledger?sslmode=disable",
            host: "127.0.0.1",
            port: 5432,
            user: "gw",
            database: "ledger",
            tls: .disable
        ),
        Case(url: "postgres://db", host: "db", port: 5432, user: "postgres", database: "postgres", tls: .prefer),
        Case(url: "postgres://alice@db", host: "db", port: 5432, user: "alice", database: "alice", tls: .prefer),
        Case(
            url: "postgres://u:p%40ss%3Aw0rd@h/d?sslmode=require",
            host: "h",
            port: 5432,
            user: "u",
            password: "p@ss:w0rd",
            database: "d",
            tls: .require
        ),
        Case(url: "postgres://u:p@ss@h/d", host: "h", port: 5432, user: "u", password: "p@ss", database: "d", tls: .prefer),
        Case(
            url: "postgres://app:ab/cd?e#f@db:5433/mp",
            host: "db",
            port: 5433,
            user: "app",
            password: "ab/cd?e#f",
            database: "mp",
            tls: .prefer
        ),
        Case(url: "postgres://u@[::1]:6000/d?sslmode=verify-full", host: "::1", port: 6000, user: "u", database: "d", tls: .verifyFull),
        Case(
            url: "postgres://u@%2Fvar%2Frun%2Fpostgresql:5432/d",
            socketDirectory: "/var/run/postgresql",
            port: 5432,
            user: "u",
            database: "d",
            tls: .prefer
        ),
        Case(
            url: "postgres:///d?host=/tmp/pg&user=u&password=pw&port=6543",
            socketDirectory: "/tmp/pg",
            port: 6543,
            user: "u",
            password: "pw",
            database: "d",
            tls: .prefer
        ),
        Case(
            url: " POSTGRES://u:pw4@h/d?SSLMODE=Verify-CA ",
            host: "h",
            port: 5432,
            user: "u",
            password: "pw4",
            database: "d",
            tls: .verifyCA
        ),
    ])
    func urlsParse(_ expected: Case) throws {
        let location = try PostgresLocation(parsing: expected.url)
        #expect(location.host == expected.host)
        #expect(location.socketDirectory == expected.socketDirectory)
        #expect(location.port == expected.port)
        #expect(location.user == expected.user)
        #expect(location.password == expected.password)
        #expect(location.database == expected.database)
        #expect(location.tls == expected.tls)
        if let password = expected.password {
            #expect(!location.description.contains(password))
            #expect(!StorageLocation.postgres(location).description.contains(password))
        }
        #expect(try StorageLocation(parsing: expected.url) == .postgres(location))
    }

    @Test(arguments: [
        ("postgres://u:pw@h:0/d", "the PostgreSQL port '0' is not a port number"),
        ("postgres://u:pw@h:http/d", "the PostgreSQL port 'http' is not a port number"),
        ("postgres://u:pw@h/d?sslmode=always", "sslmode 'always' is not one PostgreSQL knows"),
        ("postgres://u:pw@h/d?options=-c%20x", "the PostgreSQL URL's parameter 'options' is not supported"),
        ("postgres://u:pw%zz@h/d", "the PostgreSQL URL's password has a malformed percent-encoding"),
        ("postgres://u@[::1/d", "lacks its closing ']'"),
    ])
    func badURLsAreRefusedWithoutTheirPassword(url: String, problem: String) {
        let error = #expect(throws: StorageError.self) { try StorageLocation(parsing: url) }
        #expect(error?.problem.contains(problem) == true, "\(error?.problem ?? "")")
        #expect(error?.description.contains("pw") == false)
    }

    @Test func theDescriptionNamesEverythingButThePassword() throws {
        let location = try PostgresLocation(parsing: "postgres://gw:hunter2-canary@db:5433/ledger?sslmode=require")
        #expect(location.description == "postgres://gw@db:5433/ledger?sslmode=require")
        let socket = try PostgresLocation(parsing: "postgres://gw:hunter2-canary@%2Ftmp/ledger")
        #expect(socket.description == "postgres://gw@[socket /tmp]:5432/ledger?sslmode=prefer")
        #expect(socket.socketPath == "/tmp/.s.PGSQL.5432")
    }
}
