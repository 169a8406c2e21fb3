import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyRouting
import Synchronization

/// Makes request ids: `req_`, 8 hex digits chosen at random per process, 8 of a counter.
///
/// Unique within a process and, with overwhelming likelihood, across processes, without a
/// random-number system call per request.
enum RequestIdentifier {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let processPrefix = UInt32.random(in: .min ... .max)
    private static let counter = Atomic<UInt32>(0)

    static func next() -> String {
        let sequence = counter.add(1, ordering: .relaxed).newValue
        let value = UInt64(processPrefix) << 32 | UInt64(sequence)
        return String(unsafeUninitializedCapacity: 20) { buffer in
            buffer[0] = UInt8(ascii: "r")
            buffer[1] = UInt8(ascii: "e")
            buffer[2] = UInt8(ascii: "q")
            buffer[3] = UInt8(ascii: "_")
            var remaining = value
            for index in (4..<20).reversed() {
                buffer[index] = digits[Int(remaining & 0xF)]
                remaining >>= 4
            }
            return 20
        }
    }
}
