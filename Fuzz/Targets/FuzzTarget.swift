/// One fuzz target: a property of one parser, checked on arbitrary bytes.
///
/// A target never traps on its own: it throws ``FuzzViolation`` when the parser breaks the property,
/// and the parser traps if it crashes. libFuzzer runs targets through `multiprodigy-fuzz` (built by
/// `scripts/fuzz.sh`), and `swift test` replays every target's checked-in corpus (`Fuzz/corpus/NAME`)
/// through the same code, so an input that once failed keeps being checked.
public struct FuzzTarget: Sendable {
    /// The target's name: its corpus folder, its dictionary (`Fuzz/dict/NAME.dict`) and `scripts/fuzz.sh`'s argument.
    public let name: String
    /// What the target feeds and which property it checks.
    public let summary: String
    /// Checks the property on one input.
    public let check: @Sendable (UnsafeRawBufferPointer) throws(FuzzViolation) -> Void

    #if DEBUG
    /// Every target.
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "json", summary: JSONFuzzTarget.summary, check: JSONFuzzTarget.check),
        FuzzTarget(name: "rewriter", summary: RewriterFuzzTarget.summary, check: RewriterFuzzTarget.check),
        FuzzTarget(name: "framing", summary: FramingFuzzTarget.summary, check: FramingFuzzTarget.check),
        FuzzTarget(name: "streams", summary: StreamsFuzzTarget.summary, check: StreamsFuzzTarget.check),
        FuzzTarget(name: "responses", summary: ResponsesFuzzTarget.summary, check: ResponsesFuzzTarget.check),
        FuzzTarget(name: "assembler", summary: AssemblerFuzzTarget.summary, check: AssemblerFuzzTarget.check),
        FuzzTarget(name: "errors", summary: ErrorsFuzzTarget.summary, check: ErrorsFuzzTarget.check),
        FuzzTarget(name: "privacy", summary: PrivacyFuzzTarget.summary, check: PrivacyFuzzTarget.check),
        FuzzTarget(name: "config", summary: ConfigFuzzTarget.summary, check: ConfigFuzzTarget.check),
        FuzzTarget(name: "http-connection", summary: HTTPConnectionFuzzTarget.summary, check: HTTPConnectionFuzzTarget.check),
    ]
    #else
    /// None: the targets reach the layers' internals with `@testable`, which needs a debug build, and
    /// only debug builds fuzz (`scripts/fuzz.sh`) or replay the corpora (`swift test`). A release build
    /// of the whole package (`swift build -c release`) compiles this module empty.
    public static let all: [FuzzTarget] = []
    #endif

    /// The target called `name`, if there is one.
    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}
