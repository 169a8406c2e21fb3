/// Comparisons whose duration does not depend on where the inputs differ.
package enum ConstantTime {
    /// Whether `lhs` equals `rhs`, in a time that depends only on `rhs`'s length.
    package static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<rhs.count {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ rhs[index]
        }
        return difference == 0
    }
}
