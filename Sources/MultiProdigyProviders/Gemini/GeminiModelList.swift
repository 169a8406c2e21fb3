import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy

/// Reads one page of Gemini's `GET /v1beta/models` answer.
///
/// Keeps the models that can chat or embed (`supportedGenerationMethods` holding
/// `generateContent` or `embedContent`) and names them without the `models/` prefix.
struct GeminiModelList: Equatable {
    /// The usable model names on this page, in order.
    package var names: [String]
    /// The token for the next page, when there is one.
    var nextPageToken: String?

    private static let usableMethods: Set<String> = ["generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents"]

    /// Reads `response`.
    init(_ response: JSONValue) {
        names = []
        for model in response["models"]?.arrayValue ?? [] {
            guard let name = model["name"]?.stringValue, !name.isEmpty else { continue }
            if let methods = model["supportedGenerationMethods"]?.arrayValue {
                guard methods.contains(where: { Self.usableMethods.contains($0.stringValue ?? "") }) else { continue }
            }
            names.append(GeminiProvider.bareModelName(name))
        }
        let token = response["nextPageToken"]?.stringValue ?? ""
        nextPageToken = token.isEmpty ? nil : token
    }
}
