import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// The first step of reading a front-door request body: it is not empty, and it is JSON, or the
/// client gets a 400 `invalid_json` that says which.
enum RequestBodyJSON {
    /// `body` parsed.
    ///
    /// - Parameter requiredFields: The fields the API needs, as the empty-body message names them
    ///   (`'model' and 'input'`).
    /// - Throws: ``GatewayError`` 400 `invalid_json` for an empty body or one that is not JSON.
    static func parse(_ body: ByteBuffer, requiredFields: String) throws(GatewayError) -> JSONValue {
        guard body.readableBytes > 0 else {
            throw .invalidRequest("The request body is empty. Send a JSON object with \(requiredFields).", code: "invalid_json")
        }
        do {
            return try JSONValue.parse(body)
        } catch {
            throw .invalidRequest(
                "We could not parse the JSON body of your request: \(error.reason) at byte \(error.offset). Send a valid JSON object.",
                code: "invalid_json"
            )
        }
    }
}
