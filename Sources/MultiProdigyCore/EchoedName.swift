/// A client-supplied name (a model, a path, a header value, a field) as an error message repeats it:
/// cut to a short prefix, so a request cannot make the gateway echo a megabyte back.
///
/// The cut counts Unicode scalars, so it never splits a UTF-8 character, and the result is at most
/// ``maximumScalars`` scalars (4 bytes each at most) plus `…`. A name that fits is kept as is.
///
/// ```swift
/// EchoedName.shortened(String(repeating: "x", count: 1 << 20))  // 64 × "x" followed by "…"
/// EchoedName.shortened("gpt-4o")  // "gpt-4o"
/// ```
public enum EchoedName {
    /// The most Unicode scalars of a name an error message repeats.
    public static let maximumScalars = 64

    /// `name`, or its first ``maximumScalars`` Unicode scalars followed by `…` when it is longer.
    public static func shortened(_ name: some StringProtocol) -> String {
        var scalars = name.unicodeScalars.makeIterator()
        var kept = String.UnicodeScalarView()
        // Bounded by the limit, not by the name's length: a huge name costs no more than a short one.
        for _ in 0..<maximumScalars {
            guard let scalar = scalars.next() else { return String(kept) }
            kept.append(scalar)
        }
        guard scalars.next() != nil else { return String(kept) }
        kept.append("…")
        return String(kept)
    }
}
