import Crypto
import MultiProdigyJSON
import MultiProdigyPrivacy

/// Makes and hashes virtual key secrets.
///
/// A secret is `mp-` and 43 base62 characters drawn from the system's cryptographic generator
/// (256 bits). Only its SHA-256 is stored: a key with that much entropy needs no salt or slow hash,
/// as nobody can guess it, and the lookup stays one hash and one index probe.
package enum KeySecret {
    /// What every secret starts with.
    package static let scheme = SecretScrubber.gatewayKeyScheme
    /// Characters shown in lists (`mp-Ab3dE`).
    static let prefixLength = 8

    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// A new secret.
    package static func generate() -> String {
        scheme + randomCharacters(43, from: alphabet)
    }

    /// A new public key id, such as `key_ab12cd34`.
    static func generateIdentifier() -> String {
        "key_" + randomCharacters(8, from: Array("0123456789abcdefghijklmnopqrstuvwxyz"))
    }

    /// The SHA-256 of `secret`'s UTF-8 bytes.
    static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Lowercase hexadecimal.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// `count` characters of `alphabet`, each drawn uniformly (no modulo bias).
    private static func randomCharacters(_ count: Int, from alphabet: [Character]) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
