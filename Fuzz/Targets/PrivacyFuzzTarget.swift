import MultiProdigyPrivacy
import MultiProdigyRouting

/// The personal-data scan, the secret scrubber and the token estimate on any text.
///
/// Properties, on any bytes: the first finding is one of the findings, and there is one exactly when
/// there are findings; a known secret (8 to 40 characters of a key's alphabet) put anywhere in the
/// text is gone from the scrubbed text; the token estimate is not negative and at most two tokens a
/// byte (a byte-level tokenizer makes at most one; the fitted estimate charges stray bytes that are not
/// UTF-8 a little more, which only errs towards caution).
enum PrivacyFuzzTarget {
    static let summary = "PII findings agree, known secrets never survive scrubbing, token estimates are bounded"

    /// The characters provider keys and gateway keys are written with.
    private static let keyAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".utf8)

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        let detector = PIIDetector()
        let findings = detector.findings(in: bytes)
        let first = detector.firstFinding(in: bytes)
        try FuzzViolation.require((first == nil) == findings.isEmpty, "firstFinding and findings disagree on whether there is one")
        if let first { try FuzzViolation.require(findings.contains(first), "the first finding is not among the findings") }
        let estimate = TokenEstimator.estimateTokens(inText: bytes)
        try FuzzViolation.require(estimate >= 0 && estimate <= 2 * bytes.count + 1, "\(bytes.count) bytes estimated at \(estimate) tokens")

        var input = FuzzInput(bytes)
        let secretLength = 8 + input.choice(of: 33)
        let secret = String(decoding: input.take(secretLength).map { keyAlphabet[Int($0) % keyAlphabet.count] }, as: UTF8.self)
        let cut = input.byte()
        let text = input.rest()
        guard secret.utf8.count >= SecretScrubber.minimumSecretLength, !SecretScrubber.mask.contains(secret) else { return }
        let at = text.isEmpty ? 0 : Int(cut) % (text.count + 1)
        let planted = String(decoding: text[..<at] + Array(secret.utf8) + text[at...], as: UTF8.self)
        let scrubbed = SecretScrubber(secrets: [secret]).scrub(planted)
        try FuzzViolation.require(!scrubbed.contains(secret), "a known secret survived scrubbing")
    }
}
