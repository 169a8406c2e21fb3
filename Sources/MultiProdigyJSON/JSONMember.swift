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
