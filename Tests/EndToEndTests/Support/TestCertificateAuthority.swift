import Foundation
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// Certificates for TLS tests, made once per test process with the `openssl` command line tool in
/// a temporary folder: a CA, a server certificate it signs for `127.0.0.1` and `localhost`, and a
/// second CA that signed nothing (a bundle the server's certificate does not chain to).
struct TestCertificateAuthority: Sendable {
    /// The PEM file of the CA that signed the server's certificate: the gateway's `ca_file`.
    let caFile: String
    /// The PEM file of an unrelated CA.
    let otherCAFile: String
    /// The server's certificate chain and key.
    let serverCertificateFile: String
    let serverKeyFile: String

    /// The certificates of this process, made on first use.
    static let shared: TestCertificateAuthority = {
        do {
            return try make()
        } catch {
            fatalError("could not make test certificates with openssl: \(error)")
        }
    }()

    /// The TLS settings of a fake upstream presenting the server certificate.
    var serverConfiguration: TLSConfiguration {
        get throws {
            TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(serverCertificateFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: serverKeyFile, format: .pem))
            )
        }
    }

    private static func make() throws -> TestCertificateAuthority {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mp-test-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func path(_ name: String) -> String { folder + "/" + name }
        try FileManager.default.createFile(
            atPath: path("server.ext"),
            contents: Data("basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".utf8)
        ) ? () : { throw CocoaError(.fileWriteUnknown) }()
        for name in ["ca", "other-ca"] {
            try openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=MultiProdigy test \(name)",
                "-keyout", path("\(name).key"), "-out", path("\(name).pem"),
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", path("server.key"), "-out", path("server.csr"),
        ])
        try openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", path("server.ext"), "-out", path("server.pem"),
        ])
        return TestCertificateAuthority(
            caFile: path("ca.pem"),
            otherCAFile: path("other-ca.pem"),
            serverCertificateFile: path("server.pem"),
            serverKeyFile: path("server.key")
        )
    }

    /// Runs `openssl` with `arguments` and waits for it with `waitpid`: Foundation's `Process`
    /// waits through a run loop, which a caller inside Swift concurrency (and a `static let`'s
    /// one-time initialisation, which other tests wait on) must not depend on.
    private static func openssl(_ arguments: [String]) throws {
        let argv = (["openssl"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Its progress output is not wanted.
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/openssl", &actions, nil, argv, environ)
        guard spawned == 0 else { throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "openssl: errno \(spawned)"]) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        guard status == 0 else {
            throw CocoaError(
                .executableLoad,
                userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.first ?? "") exited with \(status)"]
            )
        }
    }
}
