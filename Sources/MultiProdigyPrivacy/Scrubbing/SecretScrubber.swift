import MultiProdigyJSON
import MultiProdigyCore

/// Masks secrets in the text the gateway relays or logs: upstream error messages, mid-stream error
/// events, the reasons joined into "every target failed", health check details and log lines.
///
/// An upstream that quotes the request's `Authorization` header in its error text (proxies,
/// self-hosted servers and some SDK-fronting services do) would otherwise hand the gateway's key for
/// it to whoever holds a virtual key. Two kinds of text are replaced by ``mask``:
///
/// - The secrets the gateway knows (``secrets(in:)``): provider `api_key`s, credential `headers`
///   and `options`, the master key. Each is matched exactly, as it stands and as a JSON string
///   would escape it. A value shorter than ``minimumSecretLength`` is not matched: masking every
///   `test` or `local` in ordinary text would mangle messages, and so short a value guards nothing.
/// - Anything shaped like a credential, known or not: `Bearer` tokens, the key formats
///   ``PIIDetector`` recognises (`sk-…`, `hf_…`, `ghp_…`, `xoxb-…`, AWS and Google keys, JSON Web
///   Tokens, `api_key=…`-style assignments, private keys) and the gateway's virtual keys (`mp-…`).
///
/// Matches that overlap or touch become one mask, so that neither of two overlapping secrets
/// leaves a piece behind. Scrub decoded text, the words the client or the log reader will see:
/// escapes such as `\/` or `\u002d` in an upstream's JSON are gone by then.
///
/// ```swift
/// let scrubber = SecretScrubber(secrets: ["sk-canary-0123456789"])
/// scrubber.scrub("invalid header Authorization: Bearer sk-canary-0123456789")
/// // "invalid header Authorization: Bearer [REDACTED]"
/// ```
public struct SecretScrubber: Sendable {
    /// What every secret is replaced with.
    public static let mask = "[REDACTED]"
    /// Known secrets shorter than this many UTF-8 bytes are not matched (shaped keys still are).
    public static let minimumSecretLength = 8

    /// The prefix of the gateway's own virtual keys (`mp-…`), masked wherever it starts a key-shaped token.
    public static let gatewayKeyScheme = "mp-"

    /// Every form of every known secret.
    private var patterns: [[UInt8]] = []
    /// The known secrets, to tell which are new.
    private var known: Set<String> = []

    /// Creates a scrubber that knows no secret yet: it masks what is shaped like a credential.
    public init() {}

    /// Creates a scrubber that knows `secrets`; values shorter than ``minimumSecretLength`` are ignored.
    public init(secrets: some Sequence<String>) {
        self = SecretScrubber().adding(secrets)
    }

    /// This scrubber, also knowing `secrets`.
    public func adding(_ secrets: some Sequence<String>) -> SecretScrubber {
        var scrubber = self
        for secret in secrets where secret.utf8.count >= Self.minimumSecretLength && !scrubber.known.contains(secret) {
            scrubber.known.insert(secret)
            for form in Self.forms(of: secret) where !scrubber.patterns.contains(form) {
                scrubber.patterns.append(form)
            }
        }
        return scrubber
    }

    /// `text` with every known secret and everything shaped like a credential replaced by ``mask``.
    public func scrub(_ text: String) -> String {
        var text = text
        let scrubbed: String? = text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            var ranges = PIIDetector().credentialRanges(in: bytes, schemes: [Array(Self.gatewayKeyScheme.utf8)])
            for pattern in patterns {
                Self.appendOccurrences(of: pattern, in: bytes, to: &ranges)
            }
            guard !ranges.isEmpty else { return nil }
            ranges.sort { $0.lowerBound < $1.lowerBound }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            var copied = 0
            var index = 0
            while index < ranges.count {
                // Sorted by start, so everything that overlaps or touches this range follows it.
                var end = ranges[index].upperBound
                let start = ranges[index].lowerBound
                index += 1
                while index < ranges.count, ranges[index].lowerBound <= end {
                    end = max(end, ranges[index].upperBound)
                    index += 1
                }
                output.append(contentsOf: bytes[copied..<start])
                output.append(contentsOf: Self.mask.utf8)
                copied = min(end, bytes.count)
            }
            output.append(contentsOf: bytes[copied...])
            return String(decoding: output, as: UTF8.self)
        }
        return scrubbed ?? text
    }

    /// `error` with its message, type, code and param scrubbed.
    public func scrub(_ error: GatewayError) -> GatewayError {
        var error = error
        error.message = scrub(error.message)
        error.type = scrub(error.type)
        error.code = error.code.map(scrub)
        error.param = error.param.map(scrub)
        return error
    }

    /// `error` with its message and its upstream error scrubbed.
    public func scrub(_ error: ProviderError) -> ProviderError {
        var error = error
        error.message = scrub(error.message)
        error.upstreamError = error.upstreamError.map(scrub)
        return error
    }

    /// Whether a header or option named `name` holds a credential: its name contains, ignoring
    /// case, `auth`, `key`, `token`, `secret`, `pass`, `cookie`, `credential`, `session` or
    /// `signature` (`Authorization`, `x-api-key`, `X-Goog-Api-Key`, `Proxy-Authorization`,
    /// `client_secret`). Other headers (`anthropic-version`, `OpenAI-Organization`) are not secret.
    public static func isCredentialName(_ name: String) -> Bool {
        let name = name.lowercased()
        return ["auth", "key", "token", "secret", "pass", "cookie", "credential", "session", "signature"].contains {
            name.contains($0)
        }
    }

    /// The forms `secret` may take in text: as it is, as a JSON string escapes it, and with `/`
    /// escaped as `\/` too (which some encoders do), for text that quotes JSON.
    private static func forms(of secret: String) -> [[UInt8]] {
        let plain = Array(secret.utf8)
        let escapedBuffer = JSONWriter.encodedString(secret)
        var escaped = Array(escapedBuffer.readableBytesView.dropFirst().dropLast())
        var forms = [plain]
        if escaped != plain { forms.append(escaped) }
        if escaped.contains(UInt8(ascii: "/")) {
            var slashed: [UInt8] = []
            for byte in escaped {
                if byte == UInt8(ascii: "/") { slashed.append(UInt8(ascii: "\\")) }
                slashed.append(byte)
            }
            escaped = slashed
            forms.append(escaped)
        }
        return forms
    }

    /// Appends the range of every occurrence of `pattern` in `bytes` to `ranges`.
    private static func appendOccurrences(of pattern: [UInt8], in bytes: UnsafeRawBufferPointer, to ranges: inout [Range<Int>]) {
        guard let first = pattern.first, pattern.count <= bytes.count else { return }
        var start = 0
        let lastStart = bytes.count - pattern.count
        while start <= lastStart {
            if bytes[start] == first, pattern.indices.allSatisfy({ bytes[start + $0] == pattern[$0] }) {
                ranges.append(start..<start + pattern.count)
                start += pattern.count
            } else {
                start += 1
            }
        }
    }
}
