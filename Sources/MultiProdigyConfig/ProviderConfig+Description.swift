import MultiProdigyPrivacy

extension ProviderConfig: CustomStringConvertible, CustomDebugStringConvertible {
    /// The provider without its secrets: `api_key` shows only whether it is set, `headers` and
    /// `options` only their names. A configuration printed whole, by a log line or a debugger,
    /// prints its providers this way.
    public var description: String {
        let apiKey = apiKey == nil ? "nil" : SecretScrubber.mask
        return "ProviderConfig(name: \(name), type: \(type), base_url: \(baseURL), api_key: \(apiKey), locality: \(locality), "
            + "headers: \(headers.keys.sorted()), options: \(options.names), disabled: \(disabledReason ?? "no"))"
    }

    /// The same as ``description``: the default would print every field, secrets included.
    public var debugDescription: String { description }
}
