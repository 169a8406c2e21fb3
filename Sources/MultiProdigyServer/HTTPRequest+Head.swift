import HTTPTypes
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import NIOHTTP1
import NIOHTTPTypesHTTP1

extension HTTPRequest {
    /// The swift-http-types request of a parsed HTTP/1.x head, as SwiftNIO's own conversion makes
    /// it: the first `Host` becomes the authority, the other fields keep their order, fields with
    /// invalid names are dropped, and `Cookie` is kept whole.
    ///
    /// A path in origin form (`/v1/chat/completions?x=1`, what clients send to a server) is taken
    /// as it is, without the general URI parsing the conversion does for absolute forms, which it
    /// still handles.
    init(gatewayHead head: HTTPRequestHead) throws {
        guard head.uri.utf8.first == UInt8(ascii: "/"), let method = HTTPRequest.Method(head.method.rawValue) else {
            try self.init(head, secure: false, splitCookie: false)
            return
        }
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        var authority: String?
        for (name, value) in head.headers {
            if authority == nil, name.utf8.count == 4, name.lowercased() == "host" {
                authority = value
                continue
            }
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        self.init(method: method, scheme: "http", authority: authority, path: head.uri, headerFields: fields)
    }
}
