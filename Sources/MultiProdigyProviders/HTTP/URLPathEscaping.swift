import Foundation
import MultiProdigyCore

/// Escapes client-controlled names (model names reach upstream URLs through `provider/model`) so
/// they stay one path component and cannot add a query, a fragment or a `..` step.
public enum URLPathEscaping {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    private static let unreservedAndSlash = unreserved.union(CharacterSet(charactersIn: "/"))

    /// `name` percent-encoded as a single path segment (a `/` becomes `%2F`).
    public static func segment(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? name
    }

    /// `name` percent-encoded as a path of segments (such as a Hugging Face `org/model` id).
    ///
    /// - Throws: ``ProviderError`` (a 400 for the client) when a segment is empty, `.` or `..`.
    public static func path(_ name: String) throws -> String {
        let segments = name.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            let message = "The model name '\(name)' is not a valid model id: it has an empty, '.' or '..' path segment."
            throw ProviderError(
                kind: .client,
                message: message,
                upstreamError: .invalidRequest(message, param: "model", code: "invalid_model")
            )
        }
        return name.addingPercentEncoding(withAllowedCharacters: unreservedAndSlash) ?? name
    }
}
