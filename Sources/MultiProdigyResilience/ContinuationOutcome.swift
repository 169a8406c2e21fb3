/// What became of one attempt to finish a cut stream on another target
/// (`multiprodigy_continuations_total`'s `outcome`).
public enum ContinuationOutcome: String, Sendable, CaseIterable {
    /// The target took the text sent so far as a prefill and streamed the rest.
    case prefilled
    /// The target refused the prefill with a 400; it may still be asked the request again.
    case prefillRejected = "prefill_rejected"
    /// The target, asked the request again without a prefill, reproduced the text already sent and
    /// its answer was spliced on.
    case spliced
    /// The target, asked the request again, departed from the text already sent; the answer ended
    /// with an in-band error.
    case diverged
}
