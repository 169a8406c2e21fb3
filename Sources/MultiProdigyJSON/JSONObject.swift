import NIOCore

/// The members of a JSON object, in document order, with lookup by key.
///
/// Setting a key that exists replaces its value in place; setting `nil` removes it. A key that
/// appears twice in parsed input keeps its last value, as JavaScript and most servers do.
public struct JSONObject: Sendable, Equatable {
    /// One member.
    public struct Member: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue

        /// A member of `key` and `value`.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members, in order.
    public private(set) var members: [Member] = []

    /// An empty object.
    public init() {}

    /// An object of `members` in order; a repeated key keeps its first position and last value.
    ///
    /// Linear in the member count, so parsing a hostile object with many keys stays cheap.
    public init(uniquing members: [Member]) {
        var positions: [String: Int] = [:]
        positions.reserveCapacity(members.count)
        self.members.reserveCapacity(members.count)
        for member in members {
            if let position = positions[member.key] {
                self.members[position].value = member.value
            } else {
                positions[member.key] = self.members.count
                self.members.append(member)
            }
        }
    }

    /// The value of `key`, if present. Setting `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get { members.last { $0.key == key }?.value }
        set {
            if let index = members.lastIndex(where: { $0.key == key }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.removeAll { $0.key == key }
                }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// The keys, in order.
    public var keys: [String] { members.map(\.key) }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Appends the compact JSON text of the object to `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            JSONWriter.writeString(member.key, into: &buffer)
            buffer.writeInteger(UInt8(ascii: ":"))
            member.value.write(into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }
}
