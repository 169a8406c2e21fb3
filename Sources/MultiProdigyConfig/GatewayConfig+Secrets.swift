import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

extension SecretScrubber {
    /// The secrets `config` holds: the master key, and for every provider its `api_key` and the
    /// values of its `headers` and `options` whose names say they are credentials
    /// (``isCredentialName(_:)``). A value with a scheme, such as `Bearer abc…`, counts with and
    /// without it.
    public static func secrets(in config: GatewayConfig) -> [String] {
        var secrets: [String] = []
        if let masterKey = config.auth.masterKey { secrets.append(masterKey) }
        for provider in config.providers {
            if let apiKey = provider.apiKey { secrets.append(apiKey) }
            for (name, value) in Array(provider.headers) + Array(provider.options) where isCredentialName(name) {
                secrets.append(value)
                if let space = value.firstIndex(of: " ") {
                    secrets.append(String(value[value.index(after: space)...]).trimmingWhitespace())
                }
            }
        }
        return secrets
    }
}

extension KnownSecrets {
    /// Adds the secrets of `config`, and returns the scrubber that knows them.
    @discardableResult
    public func learn(from config: GatewayConfig) -> SecretScrubber {
        learn(SecretScrubber.secrets(in: config))
    }
}
