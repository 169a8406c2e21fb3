import Foundation
import MultiProdigyJSON
import MultiProdigyPrivacy

/// Parsers for the unit-carrying values of the configuration file.
public enum ConfigValueParsing {
    /// The longest duration accepted: a year; longer timeouts are mistakes.
    public static let maximumDurationMilliseconds: Double = 366 * 24 * 3600 * 1000

    /// The largest size accepted: 1 TiB.
    public static let maximumByteSize: Double = Double(1 << 40)

    /// Parses a duration such as `250ms`, `2s`, `5m`, `1h` or `30d`; nil when the text is not one.
    public static func duration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            guard let value = Double(number), value >= 0, value.isFinite else { continue }
            let milliseconds = (value * unit.scale * 1000).rounded()
            guard milliseconds <= maximumDurationMilliseconds else { return nil }
            return .milliseconds(Int64(milliseconds))
        }
        return nil
    }

    /// Parses a size such as `8MiB`, `512KiB`, `1GiB`, `10MB` or a plain byte count; nil when invalid.
    public static func byteSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, scale: Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            guard let value = Double(trimmed.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)), value > 0,
                value * Double(unit.scale) <= maximumByteSize
            else {
                return nil
            }
            return Int(value * Double(unit.scale))
        }
        return Int(trimmed).flatMap { $0 > 0 && Double($0) <= maximumByteSize ? $0 : nil }
    }

    /// `bytes` written as the configuration would write it: `1MiB`, `512KiB`, else `1500B`.
    public static func byteSizeText(_ bytes: Int) -> String {
        for (suffix, scale) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(suffix)"
        }
        return "\(bytes)B"
    }

    /// The candidate closest to `word` by edit distance, if close enough to be a plausible typo.
    public static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance <= max(2, candidate.count / 3), distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Levenshtein distance between two strings.
    public static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs)
        let right = Array(rhs)
        if left.isEmpty { return right.count }
        if right.isEmpty { return left.count }
        var previous = Array(0...right.count)
        var current = [Int](repeating: 0, count: right.count + 1)
        for i in 1...left.count {
            current[0] = i
            for j in 1...right.count {
                let substitution = previous[j - 1] + (left[i - 1] == right[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[right.count]
    }
}
