import MultiProdigyConfig
import MultiProdigyPrivacy

/// A parsed `http://host:port/path` URL: what ``PlainHTTPClient`` needs to send a request.
struct PlainHTTPEndpoint: Sendable, Hashable {
    /// Host name or address.
    var host: String
    /// TCP port.
    var port: Int
    /// Path (with query), starting with `/`.
    var path: String

    /// Parses `url`; nil unless it is a plain `http://` URL.
    init?(_ url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        var host = Substring(authority)
        var port = 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()) else { return nil }
                port = parsed
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let parsed = Int(authority[authority.index(after: colon)...]) else { return nil }
            host = authority[..<colon]
            port = parsed
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
        self.path = path.isEmpty ? "/" : String(path)
    }

    /// The `Host` header value.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }
}
