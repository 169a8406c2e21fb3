import Foundation
import TestFixtures
import Testing
import Yams

@testable import MultiProdigyConfig
@testable import MultiProdigyPrivacy
@testable import MultiProdigyProviders

/// `deploy/`, the README's "Running several replicas" example: two replicas behind HAProxy sharing PostgreSQL. No Docker
/// engine runs the tests, so its files are read as Compose, HAProxy and the gateway would read them.
@Suite struct DeploymentExampleTests {
    static let deploy = Fixtures.repositoryRoot.appendingPathComponent("deploy")
    static let replicas = ["replica1", "replica2"]
    /// The variables every file expects, with dummy values.
    static let environment = [
        "POSTGRES_PASSWORD": "dummy0postgres0password",
        "MULTIPRODIGY_MASTER_KEY": "dummy-master-key-0123456789",
        "OPENAI_API_KEY": "sk-dummy-openai",
        "GEMINI_API_KEY": "dummy-gemini",
        "ANTHROPIC_API_KEY": "sk-ant-dummy",
        "HF_TOKEN": "hf_dummy",
    ]

    private func text(_ name: String) throws -> String {
        try String(contentsOf: Self.deploy.appendingPathComponent(name), encoding: .utf8)
    }

    private func compose() throws -> Node {
        try #require(try Yams.compose(yaml: text("compose.yaml")))
    }

    private func service(_ name: String) throws -> Node {
        try #require(try compose()["services"]?[name], "compose.yaml has no service \(name)")
    }

    /// The gateway's own configuration of the replicas, as `multiprodigy serve` reads it.
    private func gatewayYAML() throws -> Node {
        try #require(try Yams.compose(yaml: text("gateway.yaml")))
    }

    @Test func twoReplicasRunTheSameImageCommandAndConfigWithAJournalVolumeEach() throws {
        let first = try service("replica1")
        let second = try service("replica2")
        for key in ["build", "image", "command", "environment", "depends_on", "stop_grace_period", "restart"] {
            #expect(first[key] != nil && first[key] == second[key], "replicas differ in \(key)")
        }
        #expect(Set(first.mapping?.keys.compactMap(\.string) ?? []) == Set(second.mapping?.keys.compactMap(\.string) ?? []))

        // Built from the repository's Dockerfile, whose entrypoint is the binary: the command is its arguments.
        #expect(first["build"]?["context"]?.string == "..")
        #expect(first["build"]?["dockerfile"]?.string == "Dockerfile")
        let dockerfile = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/multiprodigy\"]"))
        #expect(dockerfile.contains("EXPOSE 4100"))
        let command = first["command"]?.sequence?.compactMap(\.string)
        #expect(command == ["serve", "--config", "/etc/multiprodigy/gateway.yaml", "--listen", "0.0.0.0:4100"])
        #expect(try gatewayYAML()["server"]?["listen"]?.string == "0.0.0.0:4100")

        let mounts = try Self.replicas.map { name in try #require(try service(name)["volumes"]?.sequence?.compactMap(\.string)) }
        for volumes in mounts {
            #expect(volumes.contains("./gateway.yaml:/etc/multiprodigy/gateway.yaml:ro"))
            #expect(FileManager.default.fileExists(atPath: Self.deploy.appendingPathComponent("gateway.yaml").path))
        }
        // Each replica's journal is a named volume of its own, where the config puts the journal, and the image makes
        // that folder the gateway user's (a fresh named volume takes the image folder's owner).
        let journalVolumes = mounts.map { volumes in volumes.first { $0.hasSuffix(":/var/lib/multiprodigy") }?.split(separator: ":").first }
        #expect(journalVolumes.allSatisfy { $0 != nil } && Set(journalVolumes).count == 2, "\(journalVolumes)")
        let declared = Set(try compose()["volumes"]?.mapping?.keys.compactMap(\.string) ?? [])
        for volume in journalVolumes.compactMap({ $0 }) { #expect(declared.contains(String(volume))) }
        let journal = try #require(try gatewayYAML()["storage"]?["journal"]?.string)
        #expect(journal.hasPrefix("/var/lib/multiprodigy/"))
        #expect(dockerfile.contains("install -d -o multiprodigy -g multiprodigy /var/lib/multiprodigy"))
    }

    @Test func replicasStartOnceTheirPostgreSQLIsHealthyAndUseItsDatabase() throws {
        let postgres = try service("postgres")
        #expect(postgres["image"]?.string?.hasPrefix("postgres:15") == true)
        let healthcheck = postgres["healthcheck"]?["test"]?.sequence?.compactMap(\.string) ?? []
        #expect(healthcheck.contains("pg_isready"), "\(healthcheck)")
        let data = postgres["volumes"]?.sequence?.compactMap(\.string).first { $0.hasSuffix(":/var/lib/postgresql/data") }
        let dataVolume = try #require(data?.split(separator: ":").first.map(String.init))
        #expect(try compose()["volumes"]?.mapping?.keys.compactMap(\.string).contains(dataVolume) == true)
        #expect(postgres["ports"] == nil, "PostgreSQL is reached on the compose network only")

        for name in Self.replicas {
            #expect(try service(name)["depends_on"]?["postgres"]?["condition"]?.string == "service_healthy")
        }
        // The replicas' URL names the compose service, its user and database, and the password from the environment.
        let url = try #require(try gatewayYAML()["storage"]?["url"]?.string)
        let user = try #require(postgres["environment"]?["POSTGRES_USER"]?.string)
        let database = try #require(postgres["environment"]?["POSTGRES_DB"]?.string)
        #expect(url == "postgres://\(user):${POSTGRES_PASSWORD}@postgres:5432/\(database)?sslmode=disable")
        #expect(postgres["environment"]?["POSTGRES_PASSWORD"]?.string?.hasPrefix("${POSTGRES_PASSWORD") == true)
        #expect(try service("replica1")["environment"]?["POSTGRES_PASSWORD"]?.string?.hasPrefix("${POSTGRES_PASSWORD") == true)
    }

    @Test func theLoadBalancerIsTheOnlyPublishedPortAndChecksBothReplicasOnReady() throws {
        let services = try #require(try compose()["services"]?.mapping)
        let published = services.compactMap { name, service in service["ports"] == nil ? nil : name.string }
        #expect(published == ["load-balancer"])
        let balancer = try service("load-balancer")
        #expect(balancer["ports"]?.sequence?.compactMap(\.string) == ["4100:4100"])
        #expect(balancer["image"]?.string?.hasPrefix("haproxy:") == true)
        #expect(balancer["volumes"]?.sequence?.compactMap(\.string).contains("./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro") == true)
        for name in Self.replicas { #expect(balancer["depends_on"]?[name] != nil) }

        let lines = try text("haproxy.cfg").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("bind :4100"))
        #expect(lines.contains("option httpchk GET /ready"))
        #expect(lines.contains("http-check expect status 200"))
        #expect(lines.contains { $0.hasPrefix("default-server check ") })
        let servers = lines.filter { $0.hasPrefix("server ") }
        #expect(servers == Self.replicas.map { "server \($0) \($0):4100" })
        #expect(lines.contains("retry-on conn-failure"), "only requests that never reached a replica are sent to another")
    }

    @Test func everyVariableIsDocumentedInTheReadmeAndNoSecretIsWrittenInTheFiles() throws {
        let files = try ["compose.yaml", "gateway.yaml", "haproxy.cfg"].map { ($0, try text($0)) }
        let readme = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section =
            try #require(readme.components(separatedBy: "\n## Running several replicas\n").dropFirst().first)
            .components(separatedBy: "\n## ").first ?? ""
        #expect(section.contains("deploy/"))

        var variables = Set<String>()
        for (_, text) in files {
            var rest = Substring(text)
            while let start = rest.range(of: "${") {
                let name = rest[start.upperBound...].prefix { $0 == "_" || $0.isLetter || $0.isNumber }
                variables.insert(String(name))
                rest = rest[start.upperBound...]
            }
        }
        #expect(variables == Set(Self.environment.keys), "\(variables.sorted())")
        for variable in variables { #expect(section.contains("`\(variable)`"), "the README does not explain \(variable)") }

        // Every value that names a secret is a reference to the environment.
        for name in Self.replicas + ["postgres"] {
            for (key, value) in try service(name)["environment"]?.mapping ?? [:] {
                let key = key.string ?? ""
                guard ["PASSWORD", "KEY", "TOKEN", "SECRET"].contains(where: key.contains) else { continue }
                #expect(value.string?.hasPrefix("${\(key)") == true, "\(name).environment.\(key) is written in compose.yaml")
            }
        }
        let gateway = try gatewayYAML()
        #expect(gateway["auth"]?["master_key"]?.string == "${MULTIPRODIGY_MASTER_KEY}")
        for (name, provider) in gateway["providers"]?.mapping ?? [:] {
            #expect(provider["api_key"]?.string?.hasPrefix("${") == true, "\(name.string ?? "") has a written key")
        }
        // Nothing shaped like a credential, outside the references (the detector the gateway routes by).
        for (name, text) in files {
            let withoutReferences = text.replacing(/\$\{[A-Za-z0-9_]+(:[-?][^}]*)?\}/, with: "")
            let findings = PIIDetector().findings(in: withoutReferences)
            #expect(!findings.contains(.secret) && !findings.contains(.privateKey), "\(name): \(findings)")
        }
        let planted = try text("compose.yaml").replacingOccurrences(of: "${OPENAI_API_KEY:-}", with: "sk-proj-4kQw8ZpL2xN7vR3tY9bH6mD1")
        #expect(PIIDetector().findings(in: planted).contains(.secret), "the scan above would see a written key")
    }

    @Test func theReplicasConfigIsValidAndRequiresItsSecrets() throws {
        let path = Self.deploy.appendingPathComponent("gateway.yaml").path
        let config = try ConfigLoader(environment: Self.environment).load(contentsOf: path)
        #expect(config.auth.masterKey == Self.environment["MULTIPRODIGY_MASTER_KEY"])
        #expect(config.server.listen == ListenAddress(host: "0.0.0.0", port: 4100))
        for name in ["openai", "gemini", "anthropic", "hf"] { #expect(config.provider(named: name)?.isEnabled == true, "\(name)") }
        for route in ["auto", "cheap", "fast"] { #expect(config.route(named: route) != nil, "\(route)") }
        // The storage mapping (url, on_unavailable, journal), with the password from the environment.
        let password = try #require(Self.environment["POSTGRES_PASSWORD"])
        #expect(config.storage == "postgres://multiprodigy:\(password)@postgres:5432/multiprodigy?sslmode=disable")
        #expect(config.storageSettings == StorageSettings(onUnavailable: .open, journal: "/var/lib/multiprodigy/journal"))

        // Without a master key the replicas would be open gateways: the config refuses to load.
        var withoutMasterKey = Self.environment
        withoutMasterKey["MULTIPRODIGY_MASTER_KEY"] = nil
        #expect(throws: ConfigError.self) { try ConfigLoader(environment: withoutMasterKey).load(contentsOf: path) }
    }
}
