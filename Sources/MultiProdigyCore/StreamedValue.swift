import MultiProdigyJSON

/// A JSON value a stream sends in pieces, merged as the pieces come: text is appended, objects are
/// merged member by member, arrays grow (elements that carry an `index` are merged with the
/// element of the same `index`), and anything else is replaced by the latest non-null piece.
///
/// Identifiers and names (`id`, `type`, `name`, `index`, `expires_at`) are replaced rather than
/// appended, since a stream may repeat them in every piece. Text and arrays grow in place, so
/// merging a long answer's pieces takes time in proportion to its length.
struct StreamedValue: Sendable {
    private enum Storage: Sendable {
        case text(String)
        case object([(key: String, value: StreamedValue)])
        case array([StreamedValue])
        case value(JSONValue)
    }

    private var storage: Storage

    /// The members that are replaced, never appended to.
    static let replacedKeys: Set<String> = ["id", "type", "name", "index", "expires_at"]

    /// A value from its first piece.
    init(_ piece: JSONValue) {
        switch piece {
        case .string(let text): storage = .text(text)
        case .object(let object): storage = .object(object.members.map { ($0.key, StreamedValue($0.value)) })
        case .array(let elements): storage = .array(elements.map(StreamedValue.init))
        default: storage = .value(piece)
        }
    }

    /// Merges the next piece, which arrived under `key` (which says whether its text is appended).
    mutating func merge(_ piece: JSONValue, key: String) {
        switch piece {
        case .null:
            return
        case .string(let more) where !Self.replacedKeys.contains(key):
            guard case .text(var text) = storage else { break }
            storage = .value(.null)  // `text` is now the only reference, and grows in place.
            text += more
            storage = .text(text)
            return
        case .object(let object):
            guard case .object(var members) = storage else { break }
            storage = .value(.null)
            for member in object.members {
                if let position = members.firstIndex(where: { $0.key == member.key }) {
                    members[position].value.merge(member.value, key: member.key)
                } else {
                    members.append((member.key, StreamedValue(member.value)))
                }
            }
            storage = .object(members)
            return
        case .array(let more):
            guard case .array(var elements) = storage else { break }
            storage = .value(.null)
            for element in more {
                if let index = element["index"]?.intValue,
                    let position = elements.firstIndex(where: { $0.index == index })
                {
                    elements[position].merge(element, key: "")
                } else {
                    elements.append(StreamedValue(element))
                }
            }
            storage = .array(elements)
            return
        default:
            break
        }
        self = StreamedValue(piece)
    }

    /// The `index` member of an object value.
    private var index: Int? {
        guard case .object(let members) = storage, let member = members.first(where: { $0.key == "index" }) else { return nil }
        return member.value.json.intValue
    }

    /// The merged value.
    var json: JSONValue {
        switch storage {
        case .text(let text): .string(text)
        case .value(let value): value
        case .array(let elements): .array(elements.map(\.json))
        case .object(let members):
            .object(members.reduce(into: JSONObject()) { object, member in object[member.key] = member.value.json })
        }
    }
}
