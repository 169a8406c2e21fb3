/// Who sent a request, as the gateway's key check found.
struct RequestCaller: Sendable {
    /// The name metrics and the ledger record: a virtual key's name, `master`, or `none`.
    var name: String

    /// A request on a gateway without keys.
    static let anonymous = RequestCaller(name: "none")
    /// A request with the master key.
    static let master = RequestCaller(name: "master")
}
