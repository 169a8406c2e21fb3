/// One `"key": value` pair of a scanned object, located by byte offsets.
public struct JSONMember: Sendable, Equatable {
    /// The decoded key.
    public var key: String
    /// Offset of the key's opening quote; the member spans `keyStart..<value.upperBound`.
    public var keyStart: Int
    /// Byte range of the value.
    public var value: Range<Int>
    /// The value's JSON type.
    public var kind: JSONValueKind
}

extension [JSONMember] {
    /// Whether two members share a key. A tree keeps the last of them, a scan that reads the first
    /// would not: code that reads members straight from a scan declines such objects.
    public var hasDuplicateKeys: Bool {
        guard count > 1 else { return false }
        // A chunk's few members are compared pairwise; a larger object (an upstream may send one with
        // any number of members) goes through a set, so the check stays linear.
        guard count > 16 else {
            for index in indices.dropFirst() where self[..<index].contains(where: { $0.key == self[index].key }) {
                return true
            }
            return false
        }
        var seen = Set<String>(minimumCapacity: count)
        for member in self where !seen.insert(member.key).inserted { return true }
        return false
    }
}
