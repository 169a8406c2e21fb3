import Foundation
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy

extension SecretScrubber {
    /// The secrets `config` holds: the master key, and for every provider its `api_key` and the
    /// values of its `headers` and `options` whose names say they are credentials
    /// (``isCredentialName(_:)``), typed values as written. A value with a scheme, such as
    /// `Bearer abc…`, counts with and without it.
    public static func secrets(in config: GatewayConfig) -> [String] {
        var secrets: [String] = []
        if let masterKey = config.auth.masterKey { secrets.append(masterKey) }
        secrets += storagePasswords(in: config.storage)
        for provider in config.providers {
            if let apiKey = provider.apiKey { secrets.append(apiKey) }
            // A typed value counts as written; a short one (a count such as `default_max_tokens: 4096`)
            // could never be matched, and is left out.
            let options = provider.options.values.compactMap { name, value -> (key: String, value: String)? in
                if case .string(let text) = value { return (name, text) }
                let written = value.description
                return written.utf8.count >= minimumSecretLength ? (name, written) : nil
            }
            for (name, value) in Array(provider.headers) + options where isCredentialName(name) {
                secrets.append(value)
                if let space = value.firstIndex(of: " ") {
                    secrets.append(String(value[value.index(after: space)...]).trimmingWhitespace())
                }
            }
        }
        return secrets
    }
}

extension SecretScrubber {
    /// The password of a `postgres://user:password@host/db` storage URL, as written and
    /// percent-decoded; none for other storage.
    static func storagePasswords(in storage: String) -> [String] {
        let trimmed = storage.trimmingWhitespace()
        guard let schemeEnd = trimmed.range(of: "://"),
            ["postgres", "postgresql"].contains(trimmed[..<schemeEnd.lowerBound].lowercased())
        else { return [] }
        let afterScheme = trimmed[schemeEnd.upperBound...]
        var passwords: [String] = []
        // As the storage reader has it: the credentials end at the last '@', whatever they hold.
        if let at = afterScheme.lastIndex(of: "@"), let colon = afterScheme[..<at].firstIndex(of: ":") {
            passwords.append(String(afterScheme[afterScheme.index(after: colon)..<at]))
        }
        // `?password=` in the query.
        let host = afterScheme.lastIndex(of: "@").map { afterScheme[afterScheme.index(after: $0)...] } ?? afterScheme
        if let query = host.firstIndex(of: "?") {
            for pair in host[host.index(after: query)...].split(separator: "&") where pair.lowercased().hasPrefix("password=") {
                passwords.append(String(pair.dropFirst("password=".count)))
            }
        }
        return passwords.filter { !$0.isEmpty }.flatMap { written in
            let decoded = written.removingPercentEncoding ?? written
            return decoded == written ? [written] : [written, decoded]
        }
    }
}

extension KnownSecrets {
    /// Adds the secrets of `config`, and returns the scrubber that knows them.
    @discardableResult
    public func learn(from config: GatewayConfig) -> SecretScrubber {
        learn(SecretScrubber.secrets(in: config))
    }
}
