import MultiProdigyConfig
import MultiProdigyProviders

/// The configuration loader on any YAML.
///
/// Property, on any text: loading gives a configuration, or a ``ConfigError`` naming its source whose
/// every issue says what is wrong and how to fix it, where (a key path, a line, or the whole file, as
/// for an empty one); never a trap.
enum ConfigFuzzTarget {
    static let summary = "Any YAML gives a GatewayConfig or a ConfigError whose issues say what and how to fix it"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        let yaml = String(decoding: bytes, as: UTF8.self)
        let loader = ConfigLoader(environment: ["FUZZ_KEY": "sk-fuzz-0123456789"])
        do {
            _ = try loader.load(yaml: yaml, source: "fuzz.yaml")
        } catch {
            try FuzzViolation.require(error.source == "fuzz.yaml", "a ConfigError that does not name its source")
            try FuzzViolation.require(!error.issues.isEmpty, "a ConfigError without issues")
            for issue in error.issues {
                try FuzzViolation.require(
                    !issue.problem.isEmpty && !issue.fix.isEmpty,
                    "a ConfigIssue without a problem or a fix: \(issue)"
                )
            }
        }
    }
}
