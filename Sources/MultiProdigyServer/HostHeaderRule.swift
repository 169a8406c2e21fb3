import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import NIOHTTP1

/// RFC 9112 §3.2's rule for `Host`: an HTTP/1.1 request must have exactly one, any request may have
/// at most one, and its value must be a host with an optional port. A server answers 400 otherwise,
/// since two parties that read the request's authority differently (a proxy in front, the gateway)
/// are how requests get smuggled past rules keyed on the host.
enum HostHeaderRule {
    /// Why `head` breaks the rule, in words for the client; nil when it keeps it.
    static func violation(in head: HTTPRequestHead) -> String? {
        var count = 0
        var value: String?
        for (name, fieldValue) in head.headers where name.utf8.count == 4 && name.lowercased() == "host" {
            count += 1
            value = fieldValue
        }
        switch count {
        case 0:
            guard head.version.major == 1, head.version.minor >= 1 else { return nil }
            return "An HTTP/1.1 request needs a Host header (RFC 9112, section 3.2)."
        case 1:
            guard let value, !isValidHost(value) else { return nil }
            return "The Host header is not a valid host[:port] (RFC 9112, section 3.2)."
        default:
            return "The request has \(count) Host headers; it may have only one (RFC 9112, section 3.2)."
        }
    }

    /// Whether `value` is `uri-host [ ":" port ]` as RFC 3986 spells it (an empty value is allowed:
    /// it is what a request for a target without an authority sends).
    static func isValidHost(_ value: String) -> Bool {
        var bytes = Substring(value).utf8[...]
        if bytes.first == UInt8(ascii: "[") {
            // IP-literal: hex digits, dots and colons up to the closing bracket (IPvFuture's
            // letters and sub-delimiters included).
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = bytes[bytes.index(after: bytes.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ isUnreserved($0) || isSubDelimiter($0) || $0 == UInt8(ascii: ":") })
            else { return false }
            bytes = bytes[bytes.index(after: close)...]
        } else {
            // reg-name or IPv4: unreserved, percent-encoded or sub-delimiter bytes.
            let end = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
            guard bytes[..<end].allSatisfy({ isUnreserved($0) || isSubDelimiter($0) || $0 == UInt8(ascii: "%") }) else { return false }
            bytes = bytes[end...]
        }
        guard let colon = bytes.first else { return true }
        guard colon == UInt8(ascii: ":") else { return false }
        let port = bytes.dropFirst()
        return port.count <= 5 && port.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func isSubDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }
}
