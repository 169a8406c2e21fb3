/// Makes request ids: `req_` and 16 random hex digits.
enum RequestIdentifier {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func next() -> String {
        var value = UInt64.random(in: .min ... .max)
        return String(unsafeUninitializedCapacity: 20) { buffer in
            buffer[0] = UInt8(ascii: "r")
            buffer[1] = UInt8(ascii: "e")
            buffer[2] = UInt8(ascii: "q")
            buffer[3] = UInt8(ascii: "_")
            for index in (4..<20).reversed() {
                buffer[index] = digits[Int(value & 0xF)]
                value >>= 4
            }
            return 20
        }
    }
}
