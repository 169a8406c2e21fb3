import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience

extension VirtualKey {
    /// The key's settings, one `name: value` per line, as `multiprodigy keys create` prints them.
    public var details: String {
        var lines: [String] = []
        for (label, value) in fields(revokedPlaceholder: nil) where !value.isEmpty {
            lines.append("\(label): \(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `keys` as an aligned table, one line per key, as `multiprodigy keys list` prints it.
    public static func table(_ keys: [VirtualKey]) -> String {
        guard !keys.isEmpty else { return "No keys. Create one with: multiprodigy keys create --name NAME\n" }
        let header = ["id", "name", "prefix", "budget", "rpm", "tpm", "routes", "privacy", "created", "revoked"]
        let lines: [[String]] = [header] + keys.map { key in key.fields(revokedPlaceholder: "-").map(\.value) }
        var widths = [Int](repeating: 0, count: header.count)
        for line in lines {
            for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var text = ""
        for line in lines {
            var cells: [String] = []
            for (column, cell) in line.enumerated() {
                cells.append(cell + String(repeating: " ", count: widths[column] - cell.count))
            }
            text += cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        return text
    }

    /// The shown settings in table order; a missing revocation date is `revokedPlaceholder` (or left out when nil).
    private func fields(revokedPlaceholder: String?) -> [(label: String, value: String)] {
        let unlimited = revokedPlaceholder == nil ? "no limit" : "-"
        let none = revokedPlaceholder == nil ? "none" : "-"
        var fields: [(label: String, value: String)] = [
            ("id", id),
            ("name", name),
            ("prefix", prefix),
            ("budget", budget?.description ?? unlimited),
        ]
        fields.append(("rpm", requestsPerMinute.map { String($0) } ?? unlimited))
        fields.append(("tpm", tokensPerMinute.map { String($0) } ?? unlimited))
        fields.append(("routes", routes?.joined(separator: ",") ?? "all"))
        fields.append(("privacy", privacy?.rawValue ?? none))
        fields.append(("created", createdAt.formatted(.iso8601)))
        fields.append(("revoked", revokedAt?.formatted(.iso8601) ?? revokedPlaceholder ?? ""))
        return fields
    }
}
