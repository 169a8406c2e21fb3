import CLibFuzzer
import MultiProdigyFuzzTargets

#if canImport(Glibc)
import Glibc
#endif

// Runs one fuzz target under libFuzzer: MULTIPRODIGY_FUZZ_TARGET names it (an environment variable,
// so that processes libFuzzer forks run the same one); the arguments are libFuzzer's. Built and run
// by scripts/fuzz.sh, which documents both.

/// Writes `message` to standard error.
func report(_ message: String) {
    var message = message
    message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// The target this process fuzzes, read from the environment on first use.
enum Selected {
    static let target: FuzzTarget = {
        let name = getenv("MULTIPRODIGY_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget.named(name) else {
            let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
            report("multiprodigy-fuzz: set MULTIPRODIGY_FUZZ_TARGET to one of: \(names)\n")
            exit(2)
        }
        return target
    }()
}

/// libFuzzer's callback: checks one input, and aborts (libFuzzer then saves the input) when the
/// target's property fails.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        try Selected.target.check(bytes)
    } catch {
        report("\nmultiprodigy-fuzz: \(Selected.target.name): \(error)\n")
        abort()
    }
    return 0
}

_ = Selected.target
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
