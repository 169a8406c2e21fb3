import HTTPTypes

/// Statuses the gateway uses that HTTPTypes does not name.
public enum HTTPResponseStatusCompat {
    /// 499, nginx's "client closed request": logged when the client went away before the answer.
    public static let clientClosedRequest = HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")
}
