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
        /// The members in the order they came, and where each key is.
        case object([(key: String, value: StreamedValue)], positions: [String: Int])
        /// The elements, and where the element of each `index` is.
        case array([StreamedValue], positions: [Int: Int])
        case value(JSONValue)
    }

    private var storage: Storage

    /// The members that are replaced, never appended to.
    static let replacedKeys: Set<String> = ["id", "type", "name", "index", "expires_at"]

    /// A value from its first piece.
    init(_ piece: JSONValue) {
        switch piece {
        case .string(let text): storage = .text(text)
        case .object(let object):
            var members: [(key: String, value: StreamedValue)] = []
            var positions: [String: Int] = [:]
            Self.merge(object, into: &members, positions: &positions)
            storage = .object(members, positions: positions)
        case .array(let elements):
            var values: [StreamedValue] = []
            var positions: [Int: Int] = [:]
            for element in elements { Self.add(element, to: &values, positions: &positions) }
            storage = .array(values, positions: positions)
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
            guard case .object(var members, var positions) = storage else { break }
            storage = .value(.null)
            Self.merge(object, into: &members, positions: &positions)
            storage = .object(members, positions: positions)
            return
        case .array(let more):
            guard case .array(var elements, var positions) = storage else { break }
            storage = .value(.null)
            for element in more { Self.add(element, to: &elements, positions: &positions) }
            storage = .array(elements, positions: positions)
            return
        default:
            break
        }
        self = StreamedValue(piece)
    }

    /// Merges each member of `object` into the member of its key, or appends it.
    private static func merge(
        _ object: JSONObject,
        into members: inout [(key: String, value: StreamedValue)],
        positions: inout [String: Int]
    ) {
        for member in object.members {
            if let position = positions[member.key] {
                members[position].value.merge(member.value, key: member.key)
            } else {
                positions[member.key] = members.count
                members.append((member.key, StreamedValue(member.value)))
            }
        }
    }

    /// Merges `element` into the element of its `index`, or appends it (and notes its `index`).
    private static func add(_ element: JSONValue, to elements: inout [StreamedValue], positions: inout [Int: Int]) {
        let index = element["index"]?.intValue
        if let index, let position = positions[index] {
            elements[position].merge(element, key: "")
        } else {
            if let index { positions[index] = elements.count }
            elements.append(StreamedValue(element))
        }
    }

    /// The merged value.
    var json: JSONValue {
        switch storage {
        case .text(let text): .string(text)
        case .value(let value): value
        case .array(let elements, _): .array(elements.map(\.json))
        case .object(let members, _):
            .object(JSONObject(uniquing: members.map { JSONObject.Member(key: $0.key, value: $0.value.json) }))
        }
    }
}
