/// The ids of Responses items: `msg_…` for messages, `fc_…` for function calls, `fco_…` for their
/// outputs, `rs_…` for reasoning.
///
/// An input item the client sent without an id gets a random one. An output item's id is derived
/// from its response's id and its place in `output`, so the same answer gets the same ids whether it
/// was streamed or not, and ids stay unique because response ids are.
public enum ResponsesItemID {
    /// The prefix of a message item's id.
    public static let message = "msg"
    /// The prefix of a function call item's id.
    public static let functionCall = "fc"
    /// The prefix of a function call output item's id.
    public static let functionCallOutput = "fco"
    /// The prefix of a reasoning item's id.
    public static let reasoning = "rs"

    /// A random id: `prefix`, `_`, and 32 lowercase hexadecimal digits.
    public static func random(prefix: String, using generator: inout some RandomNumberGenerator) -> String {
        let high = generator.next()
        let low = generator.next()
        return "\(prefix)_\(hex(high))\(hex(low))"
    }

    /// The id of output item `index` of response `responseID`: `prefix`, `_`, the response id
    /// without its `resp_` prefix, `_`, and the index.
    public static func output(prefix: String, responseID: String, index: Int) -> String {
        let suffix = responseID.hasPrefix("resp_") ? responseID.dropFirst(5) : Substring(responseID)
        return "\(prefix)_\(suffix)_\(index)"
    }

    /// `value` as 16 lowercase hexadecimal digits.
    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
