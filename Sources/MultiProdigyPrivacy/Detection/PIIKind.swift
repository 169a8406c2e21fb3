/// A kind of personal data or secret that keeps a prompt on local targets.
///
/// The raw value is part of the API surface: routing explanations report a finding as
/// `pii:<rawValue>`, for example `pii:email` or `pii:national_id`.
///
/// ```swift
/// if let kind = PIIDetector().firstFinding(in: prompt) {
///     print("pii:\(kind.rawValue)")
/// }
/// ```
public enum PIIKind: String, Sendable, CaseIterable {
    /// An e-mail address: a local part, `@`, and a domain of at least two labels ending in an
    /// alphabetic top-level domain. Single-label hosts such as `user@localhost` are not addresses
    /// anyone can be reached at from outside, so they are not reported.
    case email
    /// A telephone number: `+` with a country code and 7–14 further digits (E.164, at most 15
    /// digits in all), or a North American number written `(555) 123-4567`, `555-123-4567`,
    /// `555.123.4567` or `1-555-123-4567`. Bare digit runs are never phone numbers.
    case phone
    /// A payment card number of 13–19 digits, compact or in groups separated by single spaces or
    /// dashes, with a known issuer prefix and a valid Luhn check digit.
    case card
    /// An international bank account number (ISO 13616): country code, check digits and account
    /// number, compact or in groups of four, with the length the country uses and a valid
    /// mod-97 checksum.
    case iban
    /// A national identity number: a US Social Security number (`123-45-6789` or `123 45 6789`,
    /// following the SSA's rules for areas, groups and serials) or a UK National Insurance number
    /// (`AB123456C` or `AB 12 34 56 C`).
    case nationalID = "national_id"
    /// An API key or access token recognised by its issuer's prefix and shape (OpenAI, Anthropic,
    /// AWS, GitHub, GitLab, Slack, Google, Hugging Face, Stripe, JSON Web Tokens, bearer tokens),
    /// or a non-trivial value assigned to a `password`, `secret`, `token` or `api_key` field.
    case secret
    /// The armour header of a private key (`-----BEGIN RSA PRIVATE KEY-----` and its EC, DSA,
    /// OpenSSH, PKCS #8, encrypted and PGP variants).
    case privateKey = "private_key"
}
