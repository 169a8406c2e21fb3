import Foundation
import Hummingbird

/// The dashboard's HTML forms and text: URL-encoded form bodies read, text escaped for HTML.
enum DashboardForm {
    /// `text` safe inside HTML text and attribute values.
    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The fields of a form body (`application/x-www-form-urlencoded`), at most ``DashboardHandler/maximumFormBytes``.
    static func fields(of request: inout Request) async throws -> [String: String] {
        let body = try await RequestBodyReader.collect(&request, limit: DashboardHandler.maximumFormBytes)
        return formFields(String(buffer: body))
    }

    /// The fields of `text`, URL-encoded as a form sends them; a field given twice keeps its first value.
    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return fields
    }
}
