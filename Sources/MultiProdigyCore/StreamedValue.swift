import MultiProdigyJSON

/// A JSON value a stream sends in pieces, merged as the pieces come: text is appended, objects are
/// merged member by member, and anything else is replaced by the latest non-null piece.
///
/// Identifiers (`id`, `type`, `expires_at`) are replaced rather than appended, since a stream may
/// repeat them in every piece. Appending happens in place, so merging a long answer's pieces takes
/// time in proportion to its length.
struct StreamedValue: Sendable {
    private enum Storage: Sendable {
        case text(String)
        case object([(key: String, value: StreamedValue)])
        case value(JSONValue)
    }

    private var storage: Storage

    /// The members that are replaced, never appended to.
    private static let replacedKeys: Set<String> = ["id", "type", "expires_at", "index"]

    /// A value from its first piece.
    init(_ piece: JSONValue) {
        switch piece {
        case .string(let text): storage = .text(text)
        case .object(let object): storage = .object(object.members.map { ($0.key, StreamedValue($0.value)) })
        default: storage = .value(piece)
        }
    }

    /// Merges the next piece, which arrived under `key` (which says whether its text is appended).
    mutating func merge(_ piece: JSONValue, key: String) {
        if piece.isNull { return }
        switch (storage, piece) {
        case (.text(var text), .string(let more)) where !Self.replacedKeys.contains(key):
            storage = .value(.null)  // `text` is then the only reference, and grows in place.
            text += more
            storage = .text(text)
        case (.object(var members), .object(let object)):
            storage = .value(.null)
            for member in object.members {
                if let position = members.firstIndex(where: { $0.key == member.key }) {
                    members[position].value.merge(member.value, key: member.key)
                } else {
                    members.append((member.key, StreamedValue(member.value)))
                }
            }
            storage = .object(members)
        default:
            self = StreamedValue(piece)
        }
    }

    /// The merged value.
    var json: JSONValue {
        switch storage {
        case .text(let text): .string(text)
        case .value(let value): value
        case .object(let members):
            .object(
                members.reduce(into: JSONObject()) { object, member in object[member.key] = member.value.json }
            )
        }
    }
}
