/// One element of a scanned array, located by byte offsets.
public struct JSONElement: Sendable, Equatable {
    /// Byte range of the element.
    public var range: Range<Int>
    /// The element's JSON type.
    public var kind: JSONValueKind
}
