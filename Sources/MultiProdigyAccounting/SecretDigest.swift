/// The SHA-256 of a key's secret, held inline (four words), as the directory's lookup key.
struct SecretDigest: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The digest of these 32 bytes; a digest of zeros for any other count (never a stored key's).
    init(bytes: [UInt8]) {
        guard bytes.count == 32 else {
            words = (0, 0, 0, 0)
            return
        }
        func word(_ start: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in bytes[start..<start + 8] { value = value << 8 | UInt64(byte) }
            return value
        }
        words = (word(0), word(8), word(16), word(24))
    }

    /// The digest written as 64 lowercase hexadecimal digits, as the store writes it; nil for anything
    /// else (so that a hand-edited row matches here only if ``KeyStore/find(secret:)`` would find it too).
    init?(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var high: UInt8?
        for character in hex.utf8 {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
            if bytes.count > 32 { return nil }
        }
        guard bytes.count == 32, high == nil else { return nil }
        self.init(bytes: bytes)
    }

    static func == (left: SecretDigest, right: SecretDigest) -> Bool {
        left.words.0 == right.words.0 && left.words.1 == right.words.1 && left.words.2 == right.words.2
            && left.words.3 == right.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
