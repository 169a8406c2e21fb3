import CLibFuzzer
import MultiProdigyFuzzTargets

#if canImport(Glibc)
import Glibc
#endif

// Runs one fuzz target under libFuzzer: MULTIPRODIGY_FUZZ_TARGET names it (an environment variable,
// so that processes libFuzzer forks run the same one); the arguments are libFuzzer's. Built and run
// by scripts/fuzz.sh, which documents both.

/// The target this process fuzzes, read once before libFuzzer starts.
nonisolated(unsafe) var selectedTarget: FuzzTarget?

let name = getenv("MULTIPRODIGY_FUZZ_TARGET").map { String(cString: $0) } ?? ""
guard let target = FuzzTarget.named(name) else {
    let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
    fputs("multiprodigy-fuzz: set MULTIPRODIGY_FUZZ_TARGET to one of: \(names)\n", stderr)
    exit(2)
}
selectedTarget = target

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        let bytes = UnsafeRawBufferPointer(start: data, count: size)
        do {
            try selectedTarget!.check(bytes)
        } catch {
            fputs("\nmultiprodigy-fuzz: \(selectedTarget!.name): \(error.description)\n", stderr)
            abort()
        }
        return 0
    }
)
