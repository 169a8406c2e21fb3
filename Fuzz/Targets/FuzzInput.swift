/// Reads a fuzz input as choices and data: a target takes its choices (which provider, where to split)
/// from the input's first bytes and hands the rest to the parser, so libFuzzer's mutations reach both.
struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Whether every byte was taken.
    var isAtEnd: Bool { position >= bytes.count }

    /// The next byte, or 0 once the input is used up.
    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A choice among `count` options (at least 1), taken from the next byte.
    mutating func choice(of count: Int) -> Int {
        Int(byte()) % max(1, count)
    }

    /// The next `count` bytes (fewer at the end).
    mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(0, count))
        defer { position = end }
        return Array(bytes[position..<end])
    }

    /// Every byte not taken yet.
    mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return Array(bytes[position...])
    }

    /// `data` cut into pieces of 1 to 16 bytes, sized by `sizes` in turn; the pieces join back to `data`.
    static func pieces(of data: [UInt8], sizes: [UInt8]) -> [[UInt8]] {
        guard !sizes.isEmpty else { return data.isEmpty ? [] : [data] }
        var pieces: [[UInt8]] = []
        var start = 0
        var turn = 0
        while start < data.count {
            let size = Int(sizes[turn % sizes.count]) % 16 + 1
            let end = min(data.count, start + size)
            pieces.append(Array(data[start..<end]))
            start = end
            turn += 1
        }
        return pieces
    }
}
