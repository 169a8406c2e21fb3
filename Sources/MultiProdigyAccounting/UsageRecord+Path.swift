import Foundation

extension UsageRecord {
    /// ``path`` as the ledger's `path` column holds it: the JSON text of an array of strings; nil without one.
    var pathText: String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        guard let path, !path.isEmpty, let data = try? encoder.encode(path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The steps of a `path` column's text; nil for text that is not a JSON array of strings.
    package static func path(fromText text: String) -> [String]? {
        try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }
}
