/// A small, fast pseudo-random generator (SplitMix64) for tie-breaking between deployments.
///
/// `SystemRandomNumberGenerator` asks the kernel on every call, which costs more than planning
/// itself; balancing traffic needs spread, not secrecy.
package struct SplitMixGenerator: RandomNumberGenerator {
    private var state: UInt64

    /// A generator starting from `seed`.
    package init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
