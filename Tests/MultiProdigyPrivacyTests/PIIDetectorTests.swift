import Testing

@testable import MultiProdigyPrivacy

@Suite struct PIIDetectorTests {
    private let detector = PIIDetector()

    /// A fixture and the kind it must be reported as. Raw strings (`#"…"#`) keep JSON escapes as
    /// the two characters the gateway sees between the quotes of a request body.
    struct Positive: CustomTestStringConvertible, Sendable {
        let text: String
        let kind: PIIKind
        var testDescription: String { "\(kind.rawValue): \(text)" }
        init(_ kind: PIIKind, _ text: String) {
            self.kind = kind
            self.text = text
        }
    }

    static let emails: [Positive] = [
        Positive(.email, "Please write to john@example.com about it."),
        Positive(.email, "jane.doe+newsletter@mail.example.co.uk"),
        Positive(.email, "Contact: first_last@sub-domain.example.org."),
        Positive(.email, #"Regards,\njohn@example.com"#),
        Positive(.email, #"{\"to\":\"bob@example.io\"}"#),
        Positive(.email, "Mail ALICE.SMITH@EXAMPLE.DE if the build breaks"),
        Positive(.email, "邮件: wang.wei@example.cn"),
    ]

    static let phones: [Positive] = [
        Positive(.phone, "Call me on +44 20 7946 0958 tomorrow."),
        Positive(.phone, "+49 30 123456789"),
        Positive(.phone, "US office: +1 555 123 4567"),
        Positive(.phone, "+1 (555) 123-4567"),
        Positive(.phone, "Paris +33 1 23 45 67 89"),
        Positive(.phone, "Tokyo +81-3-1234-5678."),
        Positive(.phone, "whatsapp +919876543210"),
        Positive(.phone, "London +44 (0)20 7946 0958"),
        Positive(.phone, "Reach me at (555) 123-4567 after five"),
        Positive(.phone, "my cell is 555-123-4567"),
        Positive(.phone, "fax 555.123.4567"),
        Positive(.phone, "Toll free 1-800-555-0199"),
        Positive(.phone, #"call me at \"555-123-4567\" please"#),
        Positive(.phone, #"Phone:\n(212) 555-0143"#),
        Positive(.phone, #"tel:\u00a0555-123-4567"#),
    ]

    static let cards: [Positive] = [
        Positive(.card, "My card is 4111 1111 1111 1111, expiry 12/27"),
        Positive(.card, "4111-1111-1111-1111"),
        Positive(.card, "pay with 4111111111111111 please"),
        Positive(.card, "Mastercard 5555 5555 5555 4444"),
        Positive(.card, "5105105105105100"),
        Positive(.card, "new range 2223 0031 2200 3222"),
        Positive(.card, "Amex 3782 822463 10005"),
        Positive(.card, "371449635398431"),
        Positive(.card, "Discover 6011 1111 1111 1117"),
        Positive(.card, "Diners 30569309025904"),
        Positive(.card, "JCB 3530111333300000"),
        Positive(.card, "UnionPay 6200000000000005"),
        Positive(.card, "old Visa 4222222222222"),
        Positive(.card, #"{\"card\":\"4012888888881881\"}"#),
        Positive(.card, #"number:\n4000 0566 5566 5556"#),
        Positive(.card, #"saved in D:\cards\4111111111111111.txt"#),
    ]

    static let ibans: [Positive] = [
        Positive(.iban, "Transfer to DE89 3704 0044 0532 0130 00 by Friday"),
        Positive(.iban, "DE89370400440532013000"),
        Positive(.iban, "GB29 NWBK 6016 1331 9268 19"),
        Positive(.iban, "IBAN: GB82WEST12345698765432."),
        Positive(.iban, "FR14 2004 1010 0505 0001 3M02 606"),
        Positive(.iban, "NL91ABNA0417164300"),
        Positive(.iban, "CH9300762011623852957"),
        Positive(.iban, "BE68 5390 0754 7034"),
        Positive(.iban, "IT60X0542811101000000123456"),
        Positive(.iban, "Norway NO9386011117947"),
        Positive(.iban, #"{\"iban\":\"PL61109010140000071219812874\"}"#),
        Positive(.iban, #"account:\nSE45 5000 0000 0583 9825 7466"#),
    ]

    static let nationalIDs: [Positive] = [
        Positive(.nationalID, "My SSN is 123-45-6789."),
        Positive(.nationalID, "ssn 078-05-1120"),
        Positive(.nationalID, "SSN: 219 09 9999"),
        Positive(.nationalID, #"{\"ssn\":\"536-90-4399\"}"#),
        Positive(.nationalID, "National Insurance number AB123456C"),
        Positive(.nationalID, "NI: JG 10 37 76 A"),
    ]

    static let secrets: [Positive] = [
        Positive(.secret, "OPENAI_API_KEY=sk-proj-4fG7hJ2kL9mN3pQ6rS8tU1vW5xY0zA2bC4dE6fG8hJ0k"),
        Positive(.secret, "use sk-T3BlbkFJ9x8c7v6b5n4m3l2k1j0h9g8f7d6s5a4q3w2e1r0t for now"),
        Positive(.secret, "key: sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AbCdEfGhIjKlMn"),
        Positive(.secret, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
        Positive(.secret, "temporary ASIAZ3Q4R5S6T7U8V9W0 credentials"),
        Positive(.secret, "token ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R"),
        Positive(.secret, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"),
        Positive(.secret, "SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
        Positive(.secret, "maps key AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
        Positive(.secret, "HF token hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
        Positive(.secret, "glpat-a1B2c3D4e5F6g7H8i9J0"),
        Positive(.secret, "stripe sk_live_51HxYzAbCdEfGhIjKlMnOp"),
        Positive(.secret, "restricted rk_live_51HxYzAbCdEfGhIjKlMnOp"),
        Positive(
            .secret,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
                + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        ),
        Positive(.secret, #"my key:\nsk-proj-4fG7hJ2kL9mN3pQ6rS8tU1vW5xY0zA2bC4dE6fG8hJ0k"#),
        Positive(.secret, #"{\"token\":\"ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R\"}"#),
        Positive(.secret, #"HF:\thf_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"#),
        Positive(.secret, #"slack\nxoxp-1234567890-abcdefghij"#),
        Positive(
            .secret,
            #"jwt:\neyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"#
        ),
        Positive(.secret, "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        Positive(.secret, "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZDEyMw=='"),
        Positive(.secret, "password=hunter2"),
        Positive(.secret, "DB_PASSWORD=Tr0ub4dor&3"),
        Positive(.secret, #"{"password": "S3cure!Pass"}"#),
        Positive(.secret, #"{\"api_key\": \"a8f5f167f44f4964e6c998dee827110c\"}"#),
        Positive(.secret, "client_secret: 9f8e7d6c5b4a3210fedcba98"),
        Positive(.secret, "X-Api-Key: 4f3c2b1a0e9d8c7b"),
        Positive(.secret, "db = connect(host, password='p@ssw0rd!')"),
        Positive(.secret, "https://example.com/login?user=bob&password=Summer2024!&next=/"),
        Positive(.secret, "let accessToken = \"ya29.a0AfH6SMBx7Lq2\""),
        Positive(.secret, "services:\n  db:\n    POSTGRES_PASSWORD: mysecret123\n"),
        Positive(.secret, #"docker-compose.yml:\n  environment:\n    API_TOKEN: t0k3n-value\n"#),
        Positive(.secret, "export GITLAB_TOKEN=9c1f2e7a4b"),
    ]

    static let privateKeys: [Positive] = [
        Positive(.privateKey, #"-----BEGIN RSA PRIVATE KEY-----\nMIIE..."#),
        Positive(.privateKey, "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"),
        Positive(.privateKey, "here it is: -----BEGIN OPENSSH PRIVATE KEY-----"),
        Positive(.privateKey, "-----BEGIN EC PRIVATE KEY-----"),
        Positive(.privateKey, "-----BEGIN DSA PRIVATE KEY-----"),
        Positive(.privateKey, "-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        Positive(.privateKey, #"\"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF...\""#),
    ]

    @Test(arguments: emails + phones + cards + ibans + nationalIDs + secrets + privateKeys)
    func personalDataAndSecretsAreFound(_ fixture: Positive) {
        #expect(detector.firstFinding(in: fixture.text) == fixture.kind)
        #expect(detector.findings(in: fixture.text) == [fixture.kind])
    }

    @Test(arguments: [
        // Checksums and validity rules that fail.
        "4111 1111 1111 1112",
        "4111111111111112",
        "5555555555554445",
        "1234567812345670",
        "DE88 3704 0044 0532 0130 00",
        "GB29NWBK60161331926818",
        "DE89 3704 0044 0532 0130 0",
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "987-65-4321",
        "123-00-4567",
        "123-45-0000",
        "QQ123456C",
        "BG123456A",
        "AB123456E",
    ])
    func numbersThatFailTheirChecksAreNotFindings(_ text: String) {
        #expect(detector.firstFinding(in: text) == nil)
    }

    @Test(arguments: [
        // Prose and numbers.
        "The quick brown fox jumps over the lazy dog.",
        "We shipped 3 releases in 2023 and expect 12 more by 2025.",
        "The total is $1,234.56 for 3 items, or €1.234,56 in Germany.",
        "Revenue grew from 8045311447 to 9123456780 dollars.",
        "USD 12,345,678.90 and 1,234,567,890,123,456 units",
        "Meeting on 2024-05-17 at 14:30, or 05/17/2024 at 2:30 PM, or 17.05.2024.",
        "Timestamp 2024-05-17T14:30:00Z and 12:30:45.123",
        "Unix time 1715950000 and 1715950000123 milliseconds",
        // Versions, identifiers and references.
        "Upgrade from v1.2.3 to Windows 10.0.19045.3693 and Python 3.11.4",
        "ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2",
        "Order #123456789 and invoice INV-2024-000123 ship with tracking 1Z999AA10123456784.",
        "USPS 9400 1000 0000 0000 0000 00",
        "Room 555-1234, extension 4567, ZIP 90210-1234",
        "part XJ-900-123-4567 and SKU 12-3456-7890",
        "Ticket 123-456-7890 is closed",
        "id 550e8400-e29b-41d4-a716-446655440000",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "md5 d41d8cd98f00b204e9800998ecf8427e sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "server 192.168.100.200 and 10.0.0.255, ipv6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 and ::1",
        "snowflake 1234567890123456789 and 1234567890123456",
        "2^64 = 18446744073709551616 and 9007199254740993",
        // Math and code.
        "3.14159 * 2 = 6.28318, and 1e+10 / 3",
        "x = +12.5% and y = -3.5",
        #"{"id": 1234567890123, "price": 19.99, "max_tokens": 4096, "temperature": 0.7}"#,
        #"{\"model\":\"gpt-4o\",\"max_tokens\":4096,\"stop\":[\"\\n\"]}"#,
        "SELECT * FROM orders WHERE id = 4111111111111112 AND total > 1000.00 LIMIT 50;",
        "let timeout: TimeInterval = 30\nlet port = 8080\nlet ratio = 16.0 / 9.0",
        "def area(r):\n    return 3.14159 * r ** 2\n\nprint(area(10))",
        "pip install requests==2.31.0 numpy>=1.26 && npm install lodash@4.17.21",
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "color: #fff; background: #1e90ff; border-color: #FF5733;",
        "ES2015 modules, MP3 files, H264 video, GPT4 and AB12-XYZ",
        "C++17 and C# 12, +1 for this idea",
        "a bearer token is sent in the Authorization header",
        // Words that look like key prefixes.
        "Install sk-learn? You mean scikit-learn; it is risk-free and task-based.",
        "hf_hub_download and ghp_ tokens, eyJ is base64 for {\"",
        "xoxo-hugs and sk-this-is-a-very-long-kebab-case-slug",
        "load_hf_token_from_env(), task_live_updates and flask-sk-learn-1234567890abcdefghij",
        "file.eyJ and version.eyJhbGciOiJIUzI1NiJ9 alone",
        // Passwords and secrets in prose or as references.
        "How do I reset my password?",
        "Our password policy requires 12 characters.",
        "password: at least 12 characters",
        "Password: Required",
        "Enter your password:",
        "The API key is stored in the vault; the secret: never share it.",
        "Set token: true and secret: 42",
        #"password = os.environ["DB_PASSWORD"]"#,
        #"api_key = os.getenv("OPENAI_API_KEY")"#,
        #"{"password": "********", "api_key": "YOUR_API_KEY", "token": "<token>"}"#,
        "password: ${DB_PASSWORD}",
        "token = create_token(user_id, 3600)",
        "secret = base64.b64encode(data)",
        "password = form.password2",
        #"{"token_count": 1234, "tokens": "abc123def", "token_type": "Bearer"}"#,
        "Authorization: Bearer <token>",
        // Credential-named parameters, properties and types in code.
        "var apiKey: String?\nlet token: String = \"\"",
        "    privateKey: NIOSSLPrivateKeySource? = nil,",
        "func enqueue(\n    callbackToken: UInt64\n)",
        "    issuerPrivateKey: ed25519CertKey\n",
        "self.previousX509PrivateKey = previousX509PrivateKey",
        "struct SEC1PrivateKey: ASN1ImplicitlyTaggable {",
        "``ConfigReader/string(forKey:as:isSecret:default:fileID:line:)-9xr3c``",
        "// RFC grammar: `token = 1*tchar`",
        "def login(username: str, password: str) -> Token:\n    token: Optional[str] = None",
        "const apiKey = process.env.API_KEY; secret: .bits256",
        // Addresses that are not addresses.
        "email me at the office",
        "ping @swiftlang on Mastodon or @MainActor in Swift",
        "ssh user@localhost and pi@raspberrypi",
        "git clone git@github.com:apple/swift.git",
        "retina icon@2x.png and banner@1.5x.jpg",
        "Rename Package@swift-6.swift to Package@swift-6.0.swift",
        "go get golang.org/x/net@v0.17.0 and docker pull ubuntu@sha256:abc",
        // Armour that holds no private key.
        "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY----- and -----BEGIN PGP PUBLIC KEY BLOCK-----",
        "Markdown rule:\n\n------------------------------\n",
    ])
    func ordinaryTextIsNotAFinding(_ text: String) {
        #expect(detector.findings(in: text) == [])
    }

    @Test func allKindsInOneTextAreReported() {
        let text =
            #"john@example.com, +44 20 7946 0958, 4111 1111 1111 1111, DE89370400440532013000, "#
            + #"123-45-6789, password=hunter2,\n-----BEGIN RSA PRIVATE KEY-----"#
        #expect(detector.findings(in: text) == Set(PIIKind.allCases))
    }

    @Test func firstFindingFollowsTextOrder() {
        #expect(detector.firstFinding(in: "card 4111111111111111 then john@example.com") == .card)
        #expect(detector.firstFinding(in: "john@example.com then card 4111111111111111") == .email)
    }

    @Test func rawBytesAndStringsAgree() {
        let text = #"{\"role\":\"user\",\"content\":\"Hi!\nMy number is 555-123-4567\"}"#
        let bytes = Array(text.utf8)
        let fromBytes = bytes.withUnsafeBytes { detector.firstFinding(in: $0) }
        #expect(fromBytes == .phone)
        #expect(detector.firstFinding(in: text) == .phone)
    }

    @Test func emptyAndTruncatedInputIsSafe() {
        for text in ["", "@", "+", "+1", "4111", "-----BEGIN ", "password=", "\\", "\\u00", "sk-", "eyJ", "DE89"] {
            #expect(detector.firstFinding(in: text) == nil, "\(text)")
        }
    }

    @Test func detectionDoesNotDependOnWhatFollowsTheBuffer() {
        // The detector must stop at the end of the buffer it is given, not at a terminator.
        let bytes = Array("4111 1111 1111 1111".utf8)
        let truncated = bytes.withUnsafeBytes { detector.firstFinding(in: UnsafeRawBufferPointer(rebasing: $0[0..<14])) }
        #expect(truncated == nil)
        let whole = bytes.withUnsafeBytes { detector.firstFinding(in: $0) }
        #expect(whole == .card)
    }

    @Test func wordStartsAreTrackedWhateverTheOffset() {
        // The scan skips runs of lower-case letters and spaces eight bytes at a time; a number
        // glued to a word must stay part of that word wherever the run happens to end.
        for padding in 0..<17 {
            let word = String(repeating: "a", count: padding)
            #expect(detector.firstFinding(in: word + " 4111 1111 1111 1111") == .card, "\(padding)")
            #expect(detector.firstFinding(in: word + "4111111111111111") == (padding == 0 ? .card : nil), "\(padding)")
            #expect(detector.firstFinding(in: word + " DE89370400440532013000") == .iban, "\(padding)")
            #expect(detector.firstFinding(in: word + "DE89370400440532013000") == (padding == 0 ? .iban : nil), "\(padding)")
        }
    }

    @Test func rawValuesAreTheAPILabels() {
        #expect(PIIKind.allCases.map(\.rawValue) == ["email", "phone", "card", "iban", "national_id", "secret", "private_key"])
    }
}
