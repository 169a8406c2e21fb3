import MultiProdigyConfig
import MultiProdigyProviders

/// The configuration loader on any YAML.
///
/// Property, on any text: loading gives a configuration, or a ``ConfigError`` whose every issue says
/// what is wrong and where (a key path or a line); never a trap.
enum ConfigFuzzTarget {
    static let summary = "Any YAML gives a GatewayConfig or a ConfigError that says where"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        let yaml = String(decoding: bytes, as: UTF8.self)
        let loader = ConfigLoader(environment: ["FUZZ_KEY": "sk-fuzz-0123456789"])
        do {
            _ = try loader.load(yaml: yaml, source: "fuzz.yaml")
        } catch {
            try FuzzViolation.require(!error.issues.isEmpty, "a ConfigError without issues")
            for issue in error.issues {
                try FuzzViolation.require(!issue.problem.isEmpty, "a ConfigIssue without a problem: \(issue)")
                try FuzzViolation.require(!issue.path.isEmpty || issue.line != nil, "a ConfigIssue that says neither path nor line: \(issue)")
            }
        }
    }
}
