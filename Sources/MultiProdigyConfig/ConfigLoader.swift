import Foundation
import MultiProdigyJSON
import MultiProdigyPrivacy
import Yams

/// Reads `gateway.yaml` into a validated ``GatewayConfig``.
///
/// Every problem is collected, not just the first: each names its path (`routes.auto.targets[2]`),
/// its line and how to fix it; unknown keys come with a "did you mean" hint. Values are expanded with
/// `${VAR}` and `${VAR:-default}`. A provider whose `api_key` names an unset variable is not an error:
/// it is disabled, and ``GatewayConfig/providers`` says why.
///
/// ```swift
/// let config = try ConfigLoader().load(contentsOf: "config/gateway.yaml")
/// ```
public struct ConfigLoader: Sendable {
    /// Variables for `${VAR}` expansion.
    public var environment: [String: String]
    /// The provider types a config may name, with what the reader checks for each.
    public var providerTypes: ProviderCatalog

    /// Creates a loader.
    ///
    /// The Providers layer adds `init(environment:)`, which passes the catalogue of registered types.
    ///
    /// - Parameters:
    ///   - environment: Variables for `${VAR}` expansion (default: the process environment).
    ///   - providerTypes: The provider types a config may name.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        providerTypes: ProviderCatalog
    ) {
        self.environment = environment
        self.providerTypes = providerTypes
    }

    /// Loads and validates the file at `path`.
    public func load(contentsOf path: String) throws(ConfigError) -> GatewayConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(
                source: path,
                issues: [
                    ConfigIssue(
                        path: "",
                        line: nil,
                        problem: "the file cannot be read (\(error.localizedDescription))",
                        fix: "check the path, or pass another file with --config"
                    )
                ]
            )
        }
        return try load(yaml: text, source: path)
    }

    /// Loads and validates YAML text; `source` names it in error messages.
    public func load(yaml: String, source: String = "configuration") throws(ConfigError) -> GatewayConfig {
        let root: Node?
        do {
            // No implicit typing: the reader types each scalar itself (after `${VAR}` expansion), and
            // Yams' default resolver would compile a dozen regular expressions (and load ICU) for tags
            // nothing reads.
            root = try Yams.compose(yaml: yaml, .basic)
        } catch let error as YamlError {
            throw ConfigError(source: source, issues: [Self.issue(from: error)])
        } catch {
            throw ConfigError(
                source: source,
                issues: [ConfigIssue(path: "", line: nil, problem: "the YAML cannot be parsed: \(error)", fix: "correct the YAML syntax")]
            )
        }
        var reader = ConfigReader(interpolation: EnvironmentInterpolation(environment: environment))
        let config = reader.readGateway(root, providerTypes: providerTypes)
        guard reader.issues.isEmpty else { throw ConfigError(source: source, issues: reader.issues) }
        return config
    }

    private static func issue(from error: YamlError) -> ConfigIssue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigIssue(
                path: "",
                line: mark.line,
                problem: "invalid YAML: \(problem)",
                fix: "correct the YAML syntax near column \(mark.column)"
            )
        case .duplicatedKeysInMapping(let duplicates, _):
            return ConfigIssue(
                path: "",
                line: nil,
                problem: "duplicated keys: \(duplicates.joined(separator: ", "))",
                fix: "keep one entry per key"
            )
        default:
            return ConfigIssue(path: "", line: nil, problem: "invalid YAML: \(error)", fix: "correct the YAML syntax")
        }
    }
}
