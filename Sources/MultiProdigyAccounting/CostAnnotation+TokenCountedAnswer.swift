import MultiProdigyResilience

/// A priced answer tells the executor the tokens it used, so the upstream's reported answer length
/// reaches the planner.
extension CostAnnotation.PricedCompletion: TokenCountedAnswer {}
