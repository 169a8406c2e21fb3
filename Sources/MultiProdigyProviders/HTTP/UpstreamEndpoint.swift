/// A parsed `http://` or `https://` URL: where ``UpstreamTransport`` connects and what it asks for.
struct UpstreamEndpoint: Sendable, Hashable {
    /// Whether the connection speaks TLS (`https`).
    var usesTLS: Bool
    /// Host name or address (an IPv6 address without its brackets).
    var host: String
    /// TCP port: the URL's, else 80 or 443.
    var port: Int
    /// Path with query, starting with `/`.
    var path: String

    /// Parses `url`; nil unless it is an absolute `http://` or `https://` URL with a valid port and
    /// a path without spaces, line breaks or control bytes (they would break the request line: a
    /// URL a client supplied must not add headers or requests). A fragment is dropped; bytes past
    /// ASCII are percent-encoded.
    init?(_ url: String) {
        let rest: Substring
        let scheme = url.prefix { $0 != ":" }.lowercased()
        if scheme == "https", url.dropFirst(scheme.count).hasPrefix("://") {
            usesTLS = true
            rest = url.dropFirst("https://".count)
        } else if scheme == "http", url.dropFirst(scheme.count).hasPrefix("://") {
            usesTLS = false
            rest = url.dropFirst("http://".count)
        } else {
            return nil
        }
        let withoutFragment = rest.prefix { $0 != "#" }
        let authority = withoutFragment.prefix { $0 != "/" && $0 != "?" }
        let path = withoutFragment.dropFirst(authority.count)
        guard !path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { return nil }
        var host = Substring(authority)
        var port = usesTLS ? 443 : 80
        // Credentials in the URL (`user:pass@host`) are not supported: they would be sent to no one.
        guard !authority.contains("@") else { return nil }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()) else { return nil }
                port = parsed
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let parsed = Int(authority[authority.index(after: colon)...]) else { return nil }
            host = authority[..<colon]
            port = parsed
        }
        guard !host.isEmpty, (1...65535).contains(port),
            !host.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F })
        else { return nil }
        self.host = String(host)
        self.port = port
        // Bytes past ASCII (a name in another script) go percent-encoded, as a browser sends them.
        var encoded = ""
        for byte in path.utf8 {
            if byte < 0x80 {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true)
            }
        }
        if encoded.isEmpty {
            self.path = "/"
        } else if encoded.hasPrefix("?") {
            self.path = "/" + encoded
        } else {
            self.path = encoded
        }
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (usesTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// The connection this endpoint's requests can share.
    var origin: UpstreamOrigin { UpstreamOrigin(usesTLS: usesTLS, host: host, port: port) }
}

/// Where a connection goes: requests to the same origin (and trust) share pooled connections.
struct UpstreamOrigin: Sendable, Hashable {
    /// Whether it speaks TLS.
    var usesTLS: Bool
    /// Host name or address.
    var host: String
    /// TCP port.
    var port: Int
}
